//! Building URLs: query parameters appended the way redirects to clients and providers need.

/// `url` with extra query parameters appended (keeping any it already has).
pub fn with_query(url: &str, params: &[(&str, &str)]) -> String {
    match url::Url::parse(url) {
        Ok(mut u) => {
            {
                let mut q = u.query_pairs_mut();
                for (k, v) in params {
                    q.append_pair(k, v);
                }
            }
            u.to_string()
        }
        Err(_) => {
            let sep = if url.contains('?') { '&' } else { '?' };
            let qs = url::form_urlencoded::Serializer::new(String::new())
                .extend_pairs(params)
                .finish();
            format!("{url}{sep}{qs}")
        }
    }
}
