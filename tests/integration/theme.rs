//! The operator's theme (`[ui] theme_dir`): served from this origin, linked by every page.
use reqwest::StatusCode;

use super::harness::*;

/// A theme folder with a stylesheet, a logo, a file of a type never served, and a secret
/// beside the folder that traversal would reach.
fn theme_folder() -> tempfile::TempDir {
    let root = tempfile::tempdir().unwrap();
    let dir = root.path().join("theme");
    std::fs::create_dir_all(dir.join("img")).unwrap();
    std::fs::write(dir.join("theme.css"), ".brand { color: rgb(1, 2, 3); }\n").unwrap();
    std::fs::write(dir.join("img/logo.svg"), "<svg xmlns=\"http://www.w3.org/2000/svg\"/>").unwrap();
    std::fs::write(dir.join("page.html"), "<script>alert(1)</script>").unwrap();
    std::fs::write(root.path().join("secret.css"), "secret").unwrap();
    root
}

#[tokio::test]
async fn the_theme_stylesheet_and_its_images_are_served_with_their_types_and_cache_headers() {
    let root = theme_folder();
    let dir = root.path().join("theme");
    let server = TestServer::start_with(|c| c.ui.theme_dir = Some(dir)).await;
    let http = reqwest::Client::new();

    let res = http.get(server.url("/static/theme/theme.css")).send().await.unwrap();
    assert_eq!(res.status(), StatusCode::OK);
    assert_eq!(res.headers()["content-type"], "text/css; charset=utf-8");
    assert_eq!(res.headers()["cache-control"], "public, max-age=3600");
    assert_eq!(res.headers()["x-content-type-options"], "nosniff");
    assert!(res.text().await.unwrap().contains("rgb(1, 2, 3)"));

    let res = http.get(server.url("/static/theme/img/logo.svg")).send().await.unwrap();
    assert_eq!(res.status(), StatusCode::OK);
    assert_eq!(res.headers()["content-type"], "image/svg+xml");
}

#[tokio::test]
async fn traversal_hidden_files_and_unknown_types_are_not_served_from_the_theme() {
    let root = theme_folder();
    let dir = root.path().join("theme");
    let server = TestServer::start_with(|c| c.ui.theme_dir = Some(dir)).await;
    let http = reqwest::Client::new();
    for path in [
        "/static/theme/%2e%2e/secret.css",
        "/static/theme/img/%2e%2e/%2e%2e/secret.css",
        "/static/theme/..%2fsecret.css",
        "/static/theme/%2fetc%2fpasswd",
        "/static/theme/page.html",
        "/static/theme/missing.css",
        "/static/theme/img",
    ] {
        let res = http.get(server.url(path)).send().await.unwrap();
        assert_eq!(res.status(), StatusCode::NOT_FOUND, "{path}");
        let body = res.text().await.unwrap();
        assert!(!body.contains("secret") && !body.contains("alert"), "{path}: {body}");
    }
    // HTTP clients resolve `..` before sending; a raw request keeps it.
    for path in ["/static/theme/../secret.css", "/static/theme/img/../../secret.css"] {
        let status_line = raw_get(&server, path).await;
        assert!(status_line.starts_with("HTTP/1.1 404"), "{path}: {status_line}");
    }
}

/// The status line of a GET of `path` sent as written.
async fn raw_get(server: &TestServer, path: &str) -> String {
    use tokio::io::{AsyncReadExt, AsyncWriteExt};
    let addr = server.state.config.listen;
    let mut stream = tokio::net::TcpStream::connect(addr).await.unwrap();
    let request = format!("GET {path} HTTP/1.1\r\nHost: {addr}\r\nConnection: close\r\n\r\n");
    stream.write_all(request.as_bytes()).await.unwrap();
    let mut answer = Vec::new();
    stream.read_to_end(&mut answer).await.unwrap();
    let answer = String::from_utf8_lossy(&answer).into_owned();
    assert!(!answer.contains("secret"), "{answer}");
    answer.lines().next().unwrap_or_default().to_owned()
}

#[tokio::test]
async fn pages_link_the_theme_after_the_built_in_stylesheet_only_when_one_is_configured() {
    let root = theme_folder();
    let dir = root.path().join("theme");
    let themed = TestServer::start_with(|c| c.ui.theme_dir = Some(dir)).await;
    let html = reqwest::get(themed.url("/")).await.unwrap().text().await.unwrap();
    let built_in = html.find("/static/gatehouse.css").expect("built-in stylesheet");
    let theme = html.find("/static/theme/theme.css?v").expect("theme stylesheet");
    assert!(built_in < theme, "the theme comes last so its rules win: {html}");

    let plain = TestServer::start().await;
    let html = reqwest::get(plain.url("/")).await.unwrap().text().await.unwrap();
    assert!(html.contains("/static/gatehouse.css"));
    assert!(!html.contains("/static/theme/"), "{html}");
    let res = reqwest::get(plain.url("/static/theme/theme.css")).await.unwrap();
    assert_eq!(res.status(), StatusCode::NOT_FOUND);
}
