//! What the account page shows people instead of raw data: times as a date and "2 hours ago",
//! and sign-in methods by name ("Password", "Authenticator app", the provider's name) instead
//! of RFC 8176 `amr` values.
use time::format_description::BorrowedFormatItem;
use time::macros::format_description;
use time::OffsetDateTime;

pub use crate::web::pages::When;

/// The clock part of a date: "06:32".
const CLOCK: &[BorrowedFormatItem<'static>] = format_description!("[hour]:[minute]");

/// The moment `t` (Unix seconds) seen at `now`.
pub fn when(t: i64, now: i64) -> When {
    let Ok(at) = OffsetDateTime::from_unix_timestamp(t) else {
        return When {
            date: String::new(),
            ago: String::new(),
            iso: String::new(),
        };
    };
    When {
        date: date(at),
        ago: ago(now - t),
        iso: at
            .format(&time::format_description::well_known::Rfc3339)
            .unwrap_or_default(),
    }
}

/// "30 Nov 2026, 06:32 UTC" in the request's language (its order and month names).
fn date(at: OffsetDateTime) -> String {
    let month = crate::i18n::text(&format!("month-{}", u8::from(at.month())));
    let args = [
        ("day", crate::i18n::arg(at.day().to_string())),
        ("month", crate::i18n::arg(month)),
        ("year", crate::i18n::arg(at.year().to_string())),
        ("clock", crate::i18n::arg(at.format(CLOCK).unwrap_or_default())),
    ];
    crate::i18n::text_with("date-day-clock", &args)
}

/// "N units ago" in the request's language (`unit` names the message: `ago-minutes`…).
fn plural(n: i64, unit: &str) -> String {
    crate::i18n::text_with(unit, &[("n", crate::i18n::number(n))])
}

/// How long ago something happened `secs` seconds back, in the largest whole unit.
pub fn ago(secs: i64) -> String {
    match secs {
        s if s < 60 => crate::i18n::text("ago-just-now"),
        s if s < 3_600 => plural(s / 60, "ago-minutes"),
        s if s < 86_400 => plural(s / 3_600, "ago-hours"),
        s if s < 30 * 86_400 => plural(s / 86_400, "ago-days"),
        s if s < 365 * 86_400 => plural(s / (30 * 86_400), "ago-months"),
        s => plural(s / (365 * 86_400), "ago-years"),
    }
}

/// The name of one authentication method (RFC 8176 `amr` value), or `None` for values that
/// only summarise others (`mfa`) or stand for the provider, named separately (`fed`).
pub fn method_name(amr: &str) -> Option<String> {
    let key = match amr {
        "pwd" => "method-password",
        "otp" => "method-otp",
        "hwk" | "swk" => "method-passkey",
        "pin" => "method-pin",
        "fpt" | "face" | "user" => "method-device",
        "sms" => "method-sms",
        "mfa" | "fed" => return None,
        _ => "method-other",
    };
    Some(crate::i18n::text(key))
}

/// How a session was signed in: the provider's display name first when it was brokered, then
/// each local method ("Contoso and Password", "Password and Authenticator app").
pub fn methods(amr: &[String], provider: Option<&str>) -> String {
    let mut names: Vec<String> = provider.map(str::to_owned).into_iter().collect();
    for name in amr.iter().filter_map(|a| method_name(a)) {
        if !names.contains(&name) {
            names.push(name);
        }
    }
    match names.as_slice() {
        [] => crate::i18n::text("method-unknown"),
        [one] => one.clone(),
        [init @ .., last] => crate::i18n::text_with(
            "methods-and",
            &[
                ("init", crate::i18n::arg(init.join(", "))),
                ("last", crate::i18n::arg(last.clone())),
            ],
        ),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_time_reads_as_a_day_month_year_and_utc_clock() {
        // 2026-11-30T06:32:07Z
        let t = 1_796_020_327;
        let w = when(t, t + 2 * 3_600 + 5);
        assert_eq!(w.date, "30 Nov 2026, 06:32 UTC");
        assert_eq!(w.ago, "2 hours ago");
        assert_eq!(w.iso, "2026-11-30T06:32:07Z");
    }

    #[test]
    fn how_long_ago_uses_the_largest_whole_unit() {
        assert_eq!(ago(5), "just now");
        assert_eq!(ago(60), "1 minute ago");
        assert_eq!(ago(59 * 60), "59 minutes ago");
        assert_eq!(ago(3_600), "1 hour ago");
        assert_eq!(ago(86_400 * 2), "2 days ago");
        assert_eq!(ago(86_400 * 61), "2 months ago");
        assert_eq!(ago(86_400 * 400), "1 year ago");
    }

    #[test]
    fn methods_are_named_for_people_not_by_their_codes() {
        let amr = |v: &[&str]| v.iter().map(|s| s.to_string()).collect::<Vec<_>>();
        assert_eq!(methods(&amr(&["pwd"]), None), "Password");
        assert_eq!(
            methods(&amr(&["pwd", "otp", "mfa"]), None),
            "Password and Authenticator app"
        );
        assert_eq!(methods(&amr(&["fed"]), Some("GitHub")), "GitHub");
        assert_eq!(
            methods(&amr(&["fed", "pwd", "otp", "mfa"]), Some("Contoso")),
            "Contoso, Password and Authenticator app"
        );
        assert_eq!(methods(&[], None), "an unknown method");
    }
}
