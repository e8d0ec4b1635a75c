//! A stand-in upstream for unit tests: it "signs in" whoever the test says, with no network,
//! so broker policy can be tested without a real provider.
use async_trait::async_trait;

use super::{Arrival, Callback, ExternalIdentity, Finished, LoginStart, Start, Upstream, UpstreamError};
use crate::config::ProviderConfig;

/// An upstream whose every login ends as `identity`.
pub struct MockUpstream {
    pub config: ProviderConfig,
    pub identity: ExternalIdentity,
}

impl MockUpstream {
    /// A provider `id` with `config` adjusted by the test, signing in `subject`.
    pub fn new(id: &str, subject: &str, adjust: impl FnOnce(&mut ProviderConfig, &mut ExternalIdentity)) -> Self {
        let mut config = ProviderConfig {
            id: id.into(),
            name: format!("Mock {id}"),
            ..Default::default()
        };
        let mut identity = ExternalIdentity {
            provider: id.into(),
            subject: subject.into(),
            email: None,
            email_verified: false,
            name: None,
            username: None,
            picture: None,
            groups: vec![],
            raw_claims: serde_json::json!({ "sub": subject }),
            upstream_session: None,
        };
        adjust(&mut config, &mut identity);
        Self { config, identity }
    }
}

#[async_trait]
impl Upstream for MockUpstream {
    fn config(&self) -> &ProviderConfig {
        &self.config
    }

    async fn probe(&self) -> Result<super::probe::Probe, UpstreamError> {
        Ok(super::probe::Probe::default())
    }

    async fn begin(&self, start: LoginStart<'_>) -> Result<Start, UpstreamError> {
        Ok(Start::Redirect(format!(
            "https://mock.test/authorize?state={}",
            start.interaction_id
        )))
    }

    async fn finish(&self, callback: &Callback, _arrival: Arrival<'_>) -> Result<Finished, UpstreamError> {
        let interaction_id = callback.get("state").cloned().ok_or(UpstreamError::UnknownState)?;
        Ok(Finished {
            interaction_id,
            browser_hash: None,
            result: Ok(self.identity.clone()),
        })
    }
}
