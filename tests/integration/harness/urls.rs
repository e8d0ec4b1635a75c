//! URLs as the tests build and read them.

/// `s` form-urlencoded, for a query parameter or a Basic-auth part.
pub fn urlencode(s: &str) -> String {
    url::form_urlencoded::byte_serialize(s.as_bytes()).collect()
}

/// A query parameter of a URL.
pub fn query_param(url: &str, name: &str) -> Option<String> {
    url::Url::parse(url)
        .ok()?
        .query_pairs()
        .find(|(k, _)| k == name)
        .map(|(_, v)| v.into_owned())
}

/// Resolves a possibly relative `Location` against the current URL.
pub fn resolve(current: &str, location: &str) -> String {
    url::Url::parse(current)
        .and_then(|u| u.join(location))
        .map(|u| u.to_string())
        .unwrap_or_else(|_| location.to_string())
}
