//! `[audit]`: how long the audit trail keeps its events.
use serde::{Deserialize, Serialize};

/// `[audit]`: events older than `retention_days` are purged (by `serve` every hour, and by
/// `gatehouse audit purge`); the table refuses every other removal.
#[derive(Debug, Clone, Serialize, Deserialize)]
#[serde(default, deny_unknown_fields)]
pub struct AuditConfig {
    /// Days an event is kept, at least 1 (default 365).
    pub retention_days: u32,
}

impl Default for AuditConfig {
    fn default() -> Self {
        Self { retention_days: 365 }
    }
}

impl AuditConfig {
    /// The rules serde cannot express.
    pub fn validate(&self) -> Result<(), String> {
        if self.retention_days == 0 {
            return Err("audit.retention_days must be at least 1 (the newest day is never purged)".into());
        }
        Ok(())
    }

    /// The Unix millisecond before which events are purged, at `now_ms`.
    pub fn cutoff_ms(&self, now_ms: i64) -> i64 {
        now_ms - i64::from(self.retention_days) * 86_400_000
    }
}
