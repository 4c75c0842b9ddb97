//! The explorer: a page served by the node itself at `/` on its RPC port, so
//! owners, buyers, notaries and courts can read the registry in a browser without
//! typing JSON-RPC. Its static files (plain HTML, CSS and JavaScript, no build
//! step, nothing fetched from elsewhere) are compiled into the binary; the page
//! talks JSON-RPC to the same origin and subscribes to `block_subscribe` over a
//! WebSocket on the same port. [`route`] is the HTTP layer that answers `GET`
//! for these files and passes everything else (JSON-RPC `POST`s, WebSocket
//! upgrades, other paths) to the server behind it.

mod route;

pub use route::ExplorerLayer;

use http::header::{self, HeaderValue};
use http::{Response, StatusCode};
use jsonrpsee::server::{HttpBody, HttpResponse};

/// Where the assets live: every path under it is the explorer's (an unknown one
/// is a 404), and no other path is, except `/` itself.
pub const ASSET_PREFIX: &str = "/explorer/";

/// One file of the page.
struct Asset {
    path: &'static str,
    content_type: &'static str,
    body: &'static str,
}

const JS: &str = "text/javascript; charset=utf-8";

/// A file of this directory, served under [`ASSET_PREFIX`] as `content_type`.
macro_rules! asset {
    ($file:literal, $content_type:expr) => {
        Asset {
            path: concat!("/explorer/", $file),
            content_type: $content_type,
            body: include_str!($file),
        }
    };
}

/// The page's files, by the path they are served at.
const ASSETS: &[Asset] = &[
    Asset {
        path: "/",
        content_type: "text/html; charset=utf-8",
        body: include_str!("index.html"),
    },
    asset!("style.css", "text/css; charset=utf-8"),
    asset!("icon.svg", "image/svg+xml"),
    asset!("dom.js", JS),
    asset!("rpc.js", JS),
    asset!("chain.js", JS),
    asset!("records.js", JS),
    asset!("contracts.js", JS),
    asset!("condo.js", JS),
    asset!("app.js", JS),
];

/// Longest `Host` header copied into the page's Content-Security-Policy.
const HOST_BYTES_MAX: usize = 255;

/// What the explorer answers for `GET path`, or `None` when the path is not its
/// own (the request then goes on to the JSON-RPC server).
pub fn answer(path: &str, host: Option<&str>) -> Option<HttpResponse> {
    if let Some(asset) = ASSETS.iter().find(|a| a.path == path) {
        return Some(file_response(asset, host));
    }
    path.starts_with(ASSET_PREFIX).then(not_found)
}

fn file_response(asset: &Asset, host: Option<&str>) -> HttpResponse {
    let mut response = Response::new(HttpBody::from(asset.body));
    let headers = response.headers_mut();
    headers.insert(
        header::CONTENT_TYPE,
        HeaderValue::from_static(asset.content_type),
    );
    // A new binary may serve new files: the browser asks again each time.
    headers.insert(header::CACHE_CONTROL, HeaderValue::from_static("no-cache"));
    if let Ok(policy) = HeaderValue::from_str(&content_security_policy(host)) {
        headers.insert(header::CONTENT_SECURITY_POLICY, policy);
    }
    common_headers(headers);
    response
}

fn not_found() -> HttpResponse {
    let mut response = Response::new(HttpBody::from(
        "Not found: the explorer has no such file.\n",
    ));
    *response.status_mut() = StatusCode::NOT_FOUND;
    let headers = response.headers_mut();
    headers.insert(
        header::CONTENT_TYPE,
        HeaderValue::from_static("text/plain; charset=utf-8"),
    );
    headers.insert(
        header::CONTENT_SECURITY_POLICY,
        HeaderValue::from_static("default-src 'none'"),
    );
    common_headers(headers);
    response
}

fn common_headers(headers: &mut http::HeaderMap) {
    headers.insert(
        header::X_CONTENT_TYPE_OPTIONS,
        HeaderValue::from_static("nosniff"),
    );
    headers.insert(
        header::REFERRER_POLICY,
        HeaderValue::from_static("no-referrer"),
    );
    headers.insert(header::X_FRAME_OPTIONS, HeaderValue::from_static("DENY"));
}

/// Scripts, styles and images from this origin only; network access to this
/// origin and its WebSocket only; nothing inline, no frames, no forms, no plugins.
/// `'self'` already covers the same-origin `ws:` in current browsers; the host
/// the browser asked for is named as well when it looks like a host.
pub fn content_security_policy(host: Option<&str>) -> String {
    let ws = host
        .filter(|h| is_plain_host(h))
        .map(|h| format!(" ws://{h}"))
        .unwrap_or_default();
    format!(
        "default-src 'none'; script-src 'self'; style-src 'self'; img-src 'self'; \
         connect-src 'self'{ws}; base-uri 'none'; form-action 'none'; frame-ancestors 'none'"
    )
}

/// A host name or address with an optional port: letters, digits, `.`, `-`,
/// `:` and IPv6 brackets, nothing that could end or add a policy directive.
fn is_plain_host(host: &str) -> bool {
    !host.is_empty()
        && host.len() <= HOST_BYTES_MAX
        && host
            .bytes()
            .all(|b| b.is_ascii_alphanumeric() || b".-:[]".contains(&b))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_page_and_its_files_are_served_and_nothing_else_under_the_prefix() {
        let page = answer("/", Some("127.0.0.1:26657")).expect("the page");
        assert_eq!(page.status(), StatusCode::OK);
        let policy = page.headers()[header::CONTENT_SECURITY_POLICY]
            .to_str()
            .expect("ascii");
        assert!(policy.contains("connect-src 'self' ws://127.0.0.1:26657;"));
        assert!(policy.contains("script-src 'self';"));
        assert_eq!(page.headers()[header::X_CONTENT_TYPE_OPTIONS], "nosniff");
        for asset in ASSETS {
            let response = answer(asset.path, None).expect("an asset");
            assert_eq!(response.headers()[header::CONTENT_TYPE], asset.content_type);
        }
        let missing = answer("/explorer/nothing.js", None).expect("a 404");
        assert_eq!(missing.status(), StatusCode::NOT_FOUND);
        assert!(answer("/metrics", None).is_none());
        assert!(answer("/index.html", None).is_none());
    }

    #[test]
    fn a_hostile_host_header_adds_nothing_to_the_policy() {
        let policy = content_security_policy(Some("evil; script-src *"));
        assert!(!policy.contains("evil"));
        assert!(!policy.contains('*'));
        assert!(content_security_policy(Some("[::1]:80")).contains("ws://[::1]:80;"));
    }

    #[test]
    fn every_script_the_page_loads_is_served() {
        let page = ASSETS[0].body;
        for src in page.split("src=\"").skip(1) {
            let path = src.split('"').next().unwrap_or_default();
            assert!(
                ASSETS.iter().any(|a| a.path == path),
                "index.html loads {path}, which is not served"
            );
        }
    }
}
