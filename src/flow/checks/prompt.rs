//! `prompt` (OIDC Core §3.1.2.1): `none` alone, or any of `login` and `consent`.
use super::Params;
use crate::flow::rejection::Rejection;
use crate::flow::request::Prompt;

/// The parsed `prompt`.
pub fn parse(p: &Params) -> Result<Prompt, Rejection> {
    Prompt::parse(p.get("prompt")).map_err(Rejection::invalid)
}
