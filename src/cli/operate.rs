//! The CLI's operating verbs (`user list|disable|enable|delete`, `client disable|enable|delete`,
//! `provider list|disable|enable|delete`, `session list|end`, `audit list|purge`), on the same
//! core as the admin API; each change is audited as the operator.
use anyhow::bail;
use clap::{Args, Subcommand};

use crate::admin::{self, Operator, Paging};
use crate::audit::Actor;
use crate::config::Config;

/// `gatehouse audit …`.
#[derive(Subcommand, Debug)]
pub enum AuditCommand {
    /// List recorded security events, newest first.
    List(AuditList),
    /// Remove the events older than `[audit] retention_days` (serve does it every ten minutes).
    Purge,
}

/// `gatehouse audit list`.
#[derive(Args, Debug)]
pub struct AuditList {
    /// An event kind (sign_in.failure) or a family (admin.*).
    #[arg(long)]
    pub kind: Option<String>,
    /// Events about this user (id, username or email).
    #[arg(long)]
    pub user: Option<String>,
    /// Events about or through this client.
    #[arg(long)]
    pub client: Option<String>,
    /// From this Unix millisecond on.
    #[arg(long)]
    pub since: Option<i64>,
    /// Before this Unix millisecond.
    #[arg(long)]
    pub until: Option<i64>,
    #[arg(long, default_value_t = 50)]
    pub limit: u64,
    #[arg(long, default_value_t = 0)]
    pub offset: u64,
    /// One JSON object per line instead of columns.
    #[arg(long)]
    pub json: bool,
}

/// `gatehouse user list`.
#[derive(Args, Debug)]
pub struct UserList {
    /// Part of a username, email or name (any case).
    #[arg(long)]
    pub search: Option<String>,
    #[arg(long, default_value_t = 50)]
    pub limit: u64,
    #[arg(long, default_value_t = 0)]
    pub offset: u64,
}

/// Who runs the command, as the audit trail names them: the operating-system user.
fn operator_name() -> String {
    std::env::var("USER")
        .or_else(|_| std::env::var("LOGNAME"))
        .ok()
        .filter(|u| !u.is_empty())
        // SAFETY: getuid has no preconditions and cannot fail.
        .unwrap_or_else(|| format!("uid {}", unsafe { libc::getuid() }))
}

/// Opens the database and names the operator.
async fn operating(config: &Config) -> anyhow::Result<sea_orm::DatabaseConnection> {
    super::open_database(config).await
}

fn operator<'a>(db: &'a sea_orm::DatabaseConnection, config: &'a Config) -> Operator<'a> {
    Operator {
        db,
        config,
        actor: Actor::Operator(operator_name()),
    }
}

/// `gatehouse user list`.
pub async fn list_users(config: &Config, a: UserList) -> anyhow::Result<()> {
    let db = operating(config).await?;
    let op = operator(&db, config);
    let page = admin::users::list(&op, a.search.as_deref(), Paging::new(Some(a.limit), Some(a.offset))?).await?;
    for u in &page.items {
        println!(
            "{}\t{}\t{}\t{}",
            u.id,
            u.username,
            u.email.as_deref().unwrap_or("-"),
            if u.disabled { "disabled" } else { "enabled" }
        );
    }
    eprintln!("{} of {} users", page.items.len(), page.total);
    Ok(())
}

/// `gatehouse user disable|enable`.
pub async fn set_user_disabled(config: &Config, user: &str, disabled: bool) -> anyhow::Result<()> {
    let db = operating(config).await?;
    let op = operator(&db, config);
    let found = admin::users::find(&op, user).await?;
    if disabled {
        let ended = admin::users::disable(&op, &found.id).await?;
        println!(
            "disabled {}: {} sessions ended, {} refresh tokens revoked",
            found.username, ended.sessions_ended, ended.refresh_tokens_revoked
        );
    } else {
        let patch = admin::users::UserPatch {
            disabled: Some(false),
            ..Default::default()
        };
        admin::users::update(&op, &found.id, patch).await?;
        println!("enabled {}", found.username);
    }
    Ok(())
}

/// `gatehouse user delete`.
pub async fn delete_user(config: &Config, user: &str, yes: bool) -> anyhow::Result<()> {
    if !yes {
        bail!("deleting a user cannot be undone; add --yes to confirm");
    }
    let db = operating(config).await?;
    let op = operator(&db, config);
    let found = admin::users::find(&op, user).await?;
    admin::users::delete(&op, &found.id).await?;
    println!("deleted user {} (id {})", found.username, found.id);
    Ok(())
}

/// `gatehouse client disable|enable`.
pub async fn set_client_disabled(config: &Config, id: &str, disabled: bool) -> anyhow::Result<()> {
    let db = operating(config).await?;
    let (_, revoked) = admin::clients::set_disabled(&operator(&db, config), id, disabled).await?;
    if disabled {
        println!("disabled client {id}: {revoked} refresh tokens revoked");
    } else {
        println!("enabled client {id}");
    }
    Ok(())
}

/// `gatehouse client delete`.
pub async fn delete_client(config: &Config, id: &str, yes: bool) -> anyhow::Result<()> {
    if !yes {
        bail!("deleting a client cannot be undone; add --yes to confirm");
    }
    let db = operating(config).await?;
    let revoked = admin::clients::delete(&operator(&db, config), id).await?;
    println!("deleted client {id}: {revoked} refresh tokens revoked");
    Ok(())
}

/// `gatehouse audit list`.
pub async fn list_events(config: &Config, a: AuditList) -> anyhow::Result<()> {
    let db = operating(config).await?;
    let op = operator(&db, config);
    let user_id = match &a.user {
        Some(u) => Some(
            admin::users::find(&op, u)
                .await
                .map(|u| u.id)
                // A deleted account's events are still there, by its id.
                .unwrap_or_else(|_| u.clone()),
        ),
        None => None,
    };
    let filter = admin::events::EventFilter {
        kind: a.kind,
        user_id,
        client_id: a.client,
        since_ms: a.since,
        until_ms: a.until,
    };
    let page = admin::events::list(&op, filter, Paging::new(Some(a.limit), Some(a.offset))?).await?;
    for e in &page.items {
        if a.json {
            println!("{}", serde_json::to_string(e)?);
        } else {
            let dash = |v: &Option<String>| v.clone().unwrap_or_else(|| "-".into());
            println!(
                "{}\t{}\t{}:{}\tuser={}\tclient={}\taddress={}",
                e.at_ms,
                e.kind,
                e.actor_kind,
                dash(&e.actor_id),
                dash(&e.user_id),
                dash(&e.client_id),
                dash(&e.address)
            );
        }
    }
    eprintln!("{} of {} events", page.items.len(), page.total);
    Ok(())
}

/// `gatehouse audit purge`.
pub async fn purge_events(config: &Config) -> anyhow::Result<()> {
    let db = operating(config).await?;
    let removed = crate::audit::purge_expired(&db, &config.audit, Actor::Operator(operator_name())).await?;
    println!(
        "{removed} audit event(s) older than {} day(s) removed",
        config.audit.retention_days
    );
    Ok(())
}

/// `gatehouse provider …`: upstream providers, the config file's (read-only) and the runtime
/// ones made through the admin API. Other nodes apply a change within seconds.
#[derive(Subcommand, Debug)]
pub enum ProviderCommand {
    /// List providers: id, name, where declared, enabled or disabled.
    List,
    /// Disable a runtime provider: no longer offered, its logins refused.
    Disable {
        /// The provider id.
        id: String,
    },
    /// Enable a disabled runtime provider again.
    Enable {
        /// The provider id.
        id: String,
    },
    /// Delete a runtime provider.
    Delete {
        /// The provider id.
        id: String,
        /// Confirm: deleting cannot be undone.
        #[arg(long)]
        yes: bool,
    },
}

/// `gatehouse session …`: live sign-in sessions.
#[derive(Subcommand, Debug)]
pub enum SessionCommand {
    /// List live sessions, newest first: sid, user, methods, provider, started, last seen.
    List {
        /// Only this user's (id, username or email).
        #[arg(long)]
        user: Option<String>,
        #[arg(long, default_value_t = 50)]
        limit: u64,
        #[arg(long, default_value_t = 0)]
        offset: u64,
    },
    /// End a session as its logout would: refused on every node, refresh tokens revoked,
    /// back-channel logouts queued for the running server to deliver.
    End {
        /// The session id (`sid`).
        sid: String,
    },
}

/// Runs a `gatehouse session …` verb.
pub async fn session(config: &Config, cmd: SessionCommand) -> anyhow::Result<()> {
    let db = operating(config).await?;
    let op = operator(&db, config);
    match cmd {
        SessionCommand::List { user, limit, offset } => {
            let user_id = match user {
                Some(u) => Some(admin::users::find(&op, &u).await?.id),
                None => None,
            };
            let paging = Paging::new(Some(limit), Some(offset))?;
            let page = admin::sessions::list(&op, user_id.as_deref(), paging).await?;
            for s in &page.items {
                println!(
                    "{}\t{}\t{}\t{}\t{}\t{}",
                    s.sid,
                    s.user_id,
                    s.amr.join(","),
                    s.idp.as_deref().unwrap_or("-"),
                    s.created_at,
                    s.last_seen_at
                );
            }
            eprintln!("{} of {} live sessions", page.items.len(), page.total);
        }
        SessionCommand::End { sid } => {
            let queued = admin::sessions::end(&op, &sid).await?;
            println!("ended session {sid}: {queued} back-channel logout(s) queued");
        }
    }
    Ok(())
}

/// Runs a `gatehouse provider …` verb.
pub async fn provider(config: &Config, cmd: ProviderCommand) -> anyhow::Result<()> {
    let db = operating(config).await?;
    let live = crate::upstream::LiveRegistry::new(config, &db, &reqwest::Client::new()).map_err(anyhow::Error::msg)?;
    let op = operator(&db, config);
    match cmd {
        ProviderCommand::List => {
            let page = admin::providers::list(&op, &live, Paging::new(Some(admin::MAX_PAGE), None)?).await?;
            for p in page.items {
                let origin = if p.read_only { "config-file" } else { "runtime" };
                let state = if p.enabled { "enabled" } else { "disabled" };
                println!("{}\t{}\t{origin}\t{state}", p.id, p.name);
            }
        }
        ProviderCommand::Disable { id } => {
            admin::providers::set_enabled(&op, &live, &id, false).await?;
            println!("disabled provider {id}");
        }
        ProviderCommand::Enable { id } => {
            admin::providers::set_enabled(&op, &live, &id, true).await?;
            println!("enabled provider {id}");
        }
        ProviderCommand::Delete { id, yes } => {
            if !yes {
                bail!("deleting provider {id} cannot be undone: add --yes");
            }
            admin::providers::delete(&op, &live, &id).await?;
            println!("deleted provider {id}");
        }
    }
    Ok(())
}

/// `gatehouse user reset-password USER`: queues the reset mail in the outbox, which the running
/// server sends.
pub async fn send_password_reset(config: &Config, user: &str) -> anyhow::Result<()> {
    let db = operating(config).await?;
    let op = operator(&db, config);
    let found = admin::users::find(&op, user).await?;
    let mailer = crate::mail::Mailer::queue_only(config.smtp.as_ref(), config.templates_dir.as_deref())?;
    let links = crate::mail_links::Links::of(config, &db, &mailer);
    let queued = admin::users::send_password_reset(&op, links.as_ref(), &found.id).await?;
    println!(
        "reset link for {} queued to {} (valid {} s); the running server sends it",
        found.username, queued.email, queued.expires_in
    );
    Ok(())
}
