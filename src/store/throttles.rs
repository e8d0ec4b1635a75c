//! Password attempts per account, in the database so that every node counts the same attempts.
//!
//! An attempt is counted *before* its password is checked: parallel guesses cannot slip through
//! while the first one is still being verified. A success forgets the count. The wait doubles
//! from attempt to attempt up to a cap and never becomes a lockout: once it has passed, the
//! next attempt is checked, whoever makes it.
use sea_orm::{ActiveModelTrait, ColumnTrait, ConnectionTrait, DbErr, EntityTrait, QueryFilter, Set};
use serde::{Deserialize, Serialize};

use super::entities::login_throttle;

/// How repeated attempts against one account slow down.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(default, deny_unknown_fields)]
pub struct ThrottlePolicy {
    /// Attempts in a row that may fail without any wait.
    pub free_attempts: u32,
    /// Seconds to wait after the first attempt beyond the free ones; doubles after each.
    pub first_delay_secs: i64,
    /// The longest wait, in seconds.
    pub max_delay_secs: i64,
}

impl Default for ThrottlePolicy {
    fn default() -> Self {
        Self {
            free_attempts: 5,
            first_delay_secs: 30,
            max_delay_secs: 900,
        }
    }
}

impl ThrottlePolicy {
    /// Seconds the next attempt must wait after `attempts` unsuccessful ones in a row.
    pub fn delay_after(&self, attempts: u32) -> i64 {
        if attempts < self.free_attempts.max(1) {
            return 0;
        }
        let doublings = (attempts - self.free_attempts.max(1)).min(30);
        self.first_delay_secs
            .saturating_mul(1_i64 << doublings)
            .min(self.max_delay_secs)
    }
}

/// Whether an attempt may be checked now.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Admission {
    /// Counted; check the password, then report success with [`succeeded`].
    Admitted,
    /// Not checked: wait this many seconds.
    Wait { secs: i64 },
}

/// Counts an attempt against `key` at `now`, unless the key must still wait.
pub async fn admit<C: ConnectionTrait>(
    db: &C,
    key: &str,
    policy: &ThrottlePolicy,
    now: i64,
) -> Result<Admission, DbErr> {
    // Optimistic: a concurrent attempt that changed the row first makes this one look again.
    for _ in 0..4 {
        let row = login_throttle::Entity::find_by_id(key.to_owned()).one(db).await?;
        let Some(row) = row else {
            let first = login_throttle::ActiveModel {
                key: Set(key.to_owned()),
                attempts: Set(1),
                last_attempt_at: Set(now),
                next_allowed_at: Set(now + policy.delay_after(1)),
            };
            match first.insert(db).await {
                Ok(_) => return Ok(Admission::Admitted),
                Err(e) if matches!(e.sql_err(), Some(sea_orm::SqlErr::UniqueConstraintViolation(_))) => continue,
                Err(e) => return Err(e),
            }
        };
        if row.next_allowed_at > now {
            return Ok(Admission::Wait {
                secs: row.next_allowed_at - now,
            });
        }
        let attempts = row.attempts.saturating_add(1);
        let res = login_throttle::Entity::update_many()
            .set(login_throttle::ActiveModel {
                attempts: Set(attempts),
                last_attempt_at: Set(now),
                next_allowed_at: Set(now + policy.delay_after(attempts.max(0) as u32)),
                ..Default::default()
            })
            .filter(login_throttle::Column::Key.eq(key))
            .filter(login_throttle::Column::Attempts.eq(row.attempts))
            .exec(db)
            .await?;
        if res.rows_affected == 1 {
            return Ok(Admission::Admitted);
        }
    }
    // Lost every race: many attempts at once on one key is itself a reason to wait.
    Ok(Admission::Wait { secs: 1 })
}

/// Forgets the count after a successful attempt.
pub async fn succeeded<C: ConnectionTrait>(db: &C, key: &str) -> Result<(), DbErr> {
    clear(db, key).await.map(|_| ())
}

/// Clears the throttle of `key` (an administrator's action); whether there was one.
pub async fn clear<C: ConnectionTrait>(db: &C, key: &str) -> Result<bool, DbErr> {
    let res = login_throttle::Entity::delete_by_id(key.to_owned()).exec(db).await?;
    Ok(res.rows_affected > 0)
}

/// Forgets counts nobody added to for `idle_secs`.
pub async fn purge_idle<C: ConnectionTrait>(db: &C, now: i64, idle_secs: i64) -> Result<u64, DbErr> {
    let res = login_throttle::Entity::delete_many()
        .filter(login_throttle::Column::LastAttemptAt.lt(now - idle_secs))
        .filter(login_throttle::Column::NextAllowedAt.lt(now))
        .exec(db)
        .await?;
    Ok(res.rows_affected)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn waits_start_after_the_free_attempts_and_double_up_to_the_cap() {
        let p = ThrottlePolicy {
            free_attempts: 3,
            first_delay_secs: 10,
            max_delay_secs: 60,
        };
        let waits: Vec<i64> = (1..=8).map(|n| p.delay_after(n)).collect();
        assert_eq!(waits, [0, 0, 10, 20, 40, 60, 60, 60]);
        assert_eq!(p.delay_after(u32::MAX), 60, "no overflow");
    }
}
