//! The one decision point of the sign-in flow: given the request, the browser's sign-in and the
//! person's grants, what happens next. Pure: no I/O, the clock is passed in.
use std::collections::BTreeSet;

use super::acr;
use super::login::LoginSession;
use super::rejection::{AuthorizeErrorCode, Rejection};
use super::request::{AuthorizeRequest, Prompt};
use crate::config::UpstreamMfa;

/// What the client asked for consent-wise, and what the person has granted it.
#[derive(Debug, Clone, Copy)]
pub enum Consent<'a> {
    /// The client is trusted: no consent page.
    NotRequired,
    /// The client needs consent; these scopes are granted so far.
    Granted(&'a BTreeSet<String>),
}

/// Everything [`next_step`] decides on.
#[derive(Debug, Clone, Copy)]
pub struct Situation<'a> {
    pub request: &'a AuthorizeRequest,
    /// The browser's sign-in, if it is active and acceptable to this client.
    pub login: Option<&'a LoginSession>,
    /// The pending interaction, if there is one: a sign-in made for it is fresh.
    pub interaction: Option<&'a str>,
    pub consent: Consent<'a>,
    /// What second factors the person has and the client and provider demand.
    pub mfa: MfaPolicy,
    /// Unix seconds.
    pub now: i64,
}

/// The second-factor facts [`next_step`] decides on.
#[derive(Debug, Clone, Copy, Default)]
pub struct MfaPolicy {
    /// The person has a second factor to be asked for.
    pub enrolled: bool,
    /// The client requires a second factor (`require_mfa`).
    pub client_requires: bool,
    /// The policy of the provider the sign-in came through (`None` for a local sign-in).
    pub upstream: Option<UpstreamMfa>,
}

/// The next step of an authorization request.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Step {
    /// The person must sign in (again).
    Login,
    /// The person must prove a second factor (signed in, but without one).
    Mfa,
    /// A second factor is needed and the person has none yet: they must set one up.
    MfaEnrolment,
    /// The person must grant the requested scopes.
    Consent,
    /// Issue the authorization code.
    Issue,
    /// Answer the client with an error (`prompt=none` and a page would be needed).
    Reject(Rejection),
}

/// Decides the next step; every path of the flow goes through here.
pub fn next_step(s: &Situation) -> Step {
    let prompt = s.request.prompt;
    if !s.login.is_some_and(|login| satisfies(s, login)) {
        return match prompt {
            Prompt::None => Step::Reject(Rejection::new(
                AuthorizeErrorCode::LoginRequired,
                "the user is not signed in",
            )),
            _ => Step::Login,
        };
    }
    if s.login.is_some_and(|login| mfa_missing(s, login)) {
        return match (prompt, s.mfa.enrolled) {
            (Prompt::None, _) => Step::Reject(Rejection::new(
                AuthorizeErrorCode::InteractionRequired,
                "a second factor is required",
            )),
            (_, true) => Step::Mfa,
            (_, false) => Step::MfaEnrolment,
        };
    }
    if consent_missing(s) {
        return match prompt {
            Prompt::None => Step::Reject(Rejection::new(
                AuthorizeErrorCode::ConsentRequired,
                "the user has not consented",
            )),
            _ => Step::Consent,
        };
    }
    Step::Issue
}

/// Whether the sign-in is recent enough for the request (`prompt=login`, `max_age`).
fn satisfies(s: &Situation, login: &LoginSession) -> bool {
    // A sign-in made for this very interaction satisfies prompt=login and max_age; one made
    // in another tab, even a moment ago, does not.
    let fresh = s.interaction.is_some() && login.interaction.as_deref() == s.interaction;
    // max_age=0 means "authenticate now" (elapsed whole seconds can be 0).
    let too_old = s
        .request
        .max_age
        .is_some_and(|m| m == 0 || s.now - login.auth_time > m as i64);
    fresh || !(s.request.prompt.forces_login() || too_old)
}

/// Whether the sign-in lacks a second factor that the person's enrolment (at a password
/// login), the client, the request's `acr_values` or the upstream provider's policy demands.
fn mfa_missing(s: &Situation, login: &LoginSession) -> bool {
    if acr::has_mfa(&login.amr) {
        return false;
    }
    let by_method = match (&login.idp, s.mfa.upstream) {
        // Enrolled factors are required at every local sign-in.
        (None, _) => s.mfa.enrolled,
        (Some(_), Some(UpstreamMfa::AlwaysLocal)) => true,
        (Some(_), _) => false,
    };
    by_method || s.mfa.client_requires || acr::requests_mfa(&s.request.acr_values)
}

fn consent_missing(s: &Situation) -> bool {
    match s.consent {
        Consent::NotRequired => false,
        Consent::Granted(granted) => {
            s.request.prompt.forces_consent() || !s.request.scopes.iter().all(|x| granted.contains(x))
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    const NOW: i64 = 1_000_000;

    fn request(prompt: Prompt, max_age: Option<u64>) -> AuthorizeRequest {
        AuthorizeRequest {
            client_id: "app".into(),
            redirect_uri: "https://app.test/cb".into(),
            scopes: vec!["openid".into(), "email".into()],
            state: None,
            nonce: None,
            code_challenge: None,
            prompt,
            max_age,
            login_hint: None,
            idp_hint: None,
            acr_values: Vec::new(),
            ui_locales: None,
        }
    }

    fn signed_in(at: i64, interaction: Option<&str>) -> LoginSession {
        LoginSession {
            interaction: interaction.map(str::to_owned),
            user_id: "u1".into(),
            sid: "s1".into(),
            auth_time: at,
            amr: vec!["pwd".into()],
            idp: None,
            upstream_session: None,
        }
    }

    const LOGIN: Prompt = Prompt::Force {
        login: true,
        consent: false,
    };
    const CONSENT: Prompt = Prompt::Force {
        login: false,
        consent: true,
    };

    struct Case {
        name: &'static str,
        prompt: Prompt,
        max_age: Option<u64>,
        auth_time: Option<i64>,
        interaction: Option<&'static str>,
        signed_in_for: Option<&'static str>,
        granted: Option<&'static [&'static str]>,
        /// The sign-in's method references (default `pwd`) and provider.
        amr: &'static [&'static str],
        idp: Option<&'static str>,
        mfa: MfaPolicy,
        acr_values: &'static [&'static str],
        expect: Result<Step, AuthorizeErrorCode>,
    }

    fn case(name: &'static str, prompt: Prompt, auth_time: Option<i64>) -> Case {
        Case {
            name,
            prompt,
            max_age: None,
            auth_time,
            interaction: None,
            signed_in_for: None,
            granted: None,
            amr: &["pwd"],
            idp: None,
            mfa: MfaPolicy::default(),
            acr_values: &[],
            expect: Ok(Step::Issue),
        }
    }

    impl Case {
        fn max_age(mut self, m: u64) -> Self {
            self.max_age = Some(m);
            self
        }
        /// The request is pending in interaction `ix`; the sign-in was made for `signed_in_for`.
        fn pending(mut self, ix: &'static str, signed_in_for: &'static str) -> Self {
            self.interaction = Some(ix);
            self.signed_in_for = Some(signed_in_for);
            self
        }
        fn granted(mut self, g: &'static [&'static str]) -> Self {
            self.granted = Some(g);
            self
        }
        /// The person has a second factor.
        fn enrolled(mut self) -> Self {
            self.mfa.enrolled = true;
            self
        }
        fn client_requires_mfa(mut self) -> Self {
            self.mfa.client_requires = true;
            self
        }
        fn acr(mut self, values: &'static [&'static str]) -> Self {
            self.acr_values = values;
            self
        }
        /// Signed in with these methods.
        fn amr(mut self, amr: &'static [&'static str]) -> Self {
            self.amr = amr;
            self
        }
        /// Signed in through `idp`, whose MFA policy is `policy`.
        fn via(mut self, idp: &'static str, policy: UpstreamMfa) -> Self {
            self.idp = Some(idp);
            self.mfa.upstream = Some(policy);
            self
        }
        fn expect(mut self, step: Step) -> Self {
            self.expect = Ok(step);
            self
        }
        fn rejects(mut self, code: AuthorizeErrorCode) -> Self {
            self.expect = Err(code);
            self
        }
    }

    #[test]
    fn every_step_follows_from_the_request_the_session_and_the_grants() {
        use AuthorizeErrorCode::*;
        let cases = [
            case("no session: log in", Prompt::Auto, None).expect(Step::Login),
            case("no session, prompt=none: login_required", Prompt::None, None).rejects(LoginRequired),
            case("session: issue", Prompt::Auto, Some(NOW - 10)),
            case("session, prompt=none: issue", Prompt::None, Some(NOW - 10)),
            case("prompt=login, old session: log in", LOGIN, Some(NOW - 10)).expect(Step::Login),
            case("prompt=login, signed in for this request: issue", LOGIN, Some(NOW - 5)).pending("ix1", "ix1"),
            case(
                "prompt=login, signed in for another tab's request: log in",
                LOGIN,
                Some(NOW - 1),
            )
            .pending("ix1", "ix2")
            .expect(Step::Login),
            case(
                "no prompt, signed in for another tab's request: issue",
                Prompt::Auto,
                Some(NOW - 1),
            )
            .pending("ix1", "ix2"),
            case(
                "max_age exceeded, signed in for another tab's request: log in",
                Prompt::Auto,
                Some(NOW - 90),
            )
            .max_age(60)
            .pending("ix1", "ix2")
            .expect(Step::Login),
            case("max_age not exceeded: issue", Prompt::Auto, Some(NOW - 60)).max_age(60),
            case("max_age exceeded: log in", Prompt::Auto, Some(NOW - 61))
                .max_age(60)
                .expect(Step::Login),
            case(
                "max_age exceeded, prompt=none: login_required",
                Prompt::None,
                Some(NOW - 61),
            )
            .max_age(60)
            .rejects(LoginRequired),
            case("max_age=0 without a fresh sign-in: log in", Prompt::Auto, Some(NOW))
                .max_age(0)
                .expect(Step::Login),
            case("max_age=0, signed in for this request: issue", Prompt::Auto, Some(NOW))
                .max_age(0)
                .pending("ix1", "ix1"),
            case("consent needed, none granted: consent", Prompt::Auto, Some(NOW - 1))
                .granted(&[])
                .expect(Step::Consent),
            case("consent needed, some granted: consent", Prompt::Auto, Some(NOW - 1))
                .granted(&["openid"])
                .expect(Step::Consent),
            case("consent needed, all granted: issue", Prompt::Auto, Some(NOW - 1)).granted(&["openid", "email"]),
            case(
                "consent needed, prompt=none: consent_required",
                Prompt::None,
                Some(NOW - 1),
            )
            .granted(&["openid"])
            .rejects(ConsentRequired),
            case(
                "prompt=consent with every scope granted: consent",
                CONSENT,
                Some(NOW - 1),
            )
            .granted(&["openid", "email"])
            .expect(Step::Consent),
            case("prompt=consent for a trusted client: issue", CONSENT, Some(NOW - 1)),
            case("no session and no consent: log in first", Prompt::Auto, None)
                .granted(&[])
                .expect(Step::Login),
            // Second factors.
            case("enrolled, password only: mfa", Prompt::Auto, Some(NOW - 1))
                .enrolled()
                .expect(Step::Mfa),
            case("enrolled, password and otp: issue", Prompt::Auto, Some(NOW - 1))
                .enrolled()
                .amr(&["pwd", "otp", "mfa"]),
            case(
                "enrolled, password only, prompt=none: interaction_required",
                Prompt::None,
                Some(NOW - 1),
            )
            .enrolled()
            .rejects(InteractionRequired),
            case("not enrolled, no policy: issue", Prompt::Auto, Some(NOW - 1)),
            case("client requires mfa, enrolled: mfa", Prompt::Auto, Some(NOW - 1))
                .client_requires_mfa()
                .enrolled()
                .expect(Step::Mfa),
            case(
                "client requires mfa, not enrolled: enrolment",
                Prompt::Auto,
                Some(NOW - 1),
            )
            .client_requires_mfa()
            .expect(Step::MfaEnrolment),
            case(
                "client requires mfa, signed in with it: issue",
                Prompt::Auto,
                Some(NOW - 1),
            )
            .client_requires_mfa()
            .enrolled()
            .amr(&["pwd", "otp", "mfa"]),
            case("no session, client requires mfa: log in first", Prompt::Auto, None)
                .client_requires_mfa()
                .expect(Step::Login),
            case("acr_values asks for mfa: step up", Prompt::Auto, Some(NOW - 1))
                .acr(&[acr::ACR_MFA])
                .enrolled()
                .expect(Step::Mfa),
            case(
                "acr_values asks for mfa, not enrolled: enrolment",
                Prompt::Auto,
                Some(NOW - 1),
            )
            .acr(&[acr::PAPE_MFA])
            .expect(Step::MfaEnrolment),
            case("acr_values accepts one factor: issue", Prompt::Auto, Some(NOW - 1))
                .acr(&[acr::ACR_MFA, acr::ACR_SINGLE])
                .enrolled()
                .amr(&["pwd", "otp", "mfa"]),
            case(
                "acr_values with unknown values only: issue",
                Prompt::Auto,
                Some(NOW - 1),
            )
            .acr(&["gold"]),
            case("mfa before consent", Prompt::Auto, Some(NOW - 1))
                .enrolled()
                .granted(&[])
                .expect(Step::Mfa),
            case("upstream, policy none, enrolled: issue", Prompt::Auto, Some(NOW - 1))
                .amr(&["fed"])
                .via("corp", UpstreamMfa::None)
                .enrolled(),
            case(
                "upstream, policy none, client requires mfa: mfa",
                Prompt::Auto,
                Some(NOW - 1),
            )
            .amr(&["fed"])
            .via("corp", UpstreamMfa::None)
            .client_requires_mfa()
            .enrolled()
            .expect(Step::Mfa),
            case("upstream, always_local: mfa", Prompt::Auto, Some(NOW - 1))
                .amr(&["fed"])
                .via("corp", UpstreamMfa::AlwaysLocal)
                .enrolled()
                .expect(Step::Mfa),
            case(
                "upstream, always_local, not enrolled: enrolment",
                Prompt::Auto,
                Some(NOW - 1),
            )
            .amr(&["fed"])
            .via("corp", UpstreamMfa::AlwaysLocal)
            .expect(Step::MfaEnrolment),
            case(
                "upstream, always_local, local factor proven: issue",
                Prompt::Auto,
                Some(NOW - 1),
            )
            .amr(&["fed", "otp", "mfa"])
            .via("corp", UpstreamMfa::AlwaysLocal)
            .enrolled(),
            case(
                "upstream, trusted mfa, client requires mfa: issue",
                Prompt::Auto,
                Some(NOW - 1),
            )
            .amr(&["fed", "mfa"])
            .via("corp", UpstreamMfa::TrustUpstream)
            .client_requires_mfa(),
            case(
                "upstream, trusted but no mfa upstream, client requires it: mfa",
                Prompt::Auto,
                Some(NOW - 1),
            )
            .amr(&["fed"])
            .via("corp", UpstreamMfa::TrustUpstream)
            .client_requires_mfa()
            .enrolled()
            .expect(Step::Mfa),
        ];
        for c in cases {
            let mut req = request(c.prompt, c.max_age);
            req.acr_values = c.acr_values.iter().map(|s| s.to_string()).collect();
            let login = c.auth_time.map(|at| LoginSession {
                amr: c.amr.iter().map(|s| s.to_string()).collect(),
                idp: c.idp.map(str::to_owned),
                ..signed_in(at, c.signed_in_for)
            });
            let granted: BTreeSet<String> = c.granted.unwrap_or_default().iter().map(|s| s.to_string()).collect();
            let consent = match c.granted {
                Some(_) => Consent::Granted(&granted),
                None => Consent::NotRequired,
            };
            let step = next_step(&Situation {
                request: &req,
                login: login.as_ref(),
                interaction: c.interaction,
                consent,
                mfa: c.mfa,
                now: NOW,
            });
            match (&c.expect, &step) {
                (Ok(want), got) => assert_eq!(got, want, "{}", c.name),
                (Err(code), Step::Reject(r)) => assert_eq!(r.code, *code, "{}", c.name),
                (Err(code), got) => panic!("{}: expected {code:?}, got {got:?}", c.name),
            }
        }
    }
}
