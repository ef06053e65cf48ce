//! `server_methods.rs`: one marker per server request method, implementing
//! `ServerRequestMethod`, and `ServerRequest`, the requests decoded by method.

use super::routed::{EnumSpec, RoutedMethod, routed_enum_src};
use super::{HEADER, link};

const FILE_DOC: &str = r#"
//! Requests the server sends to the client: one marker type per method implementing
//! [`ServerRequestMethod`](crate::ServerRequestMethod), and [`ServerRequest`], every such request
//! decoded by method, with the thread and turn it belongs to.

"#;

const MARKER: &str = r#"
/// `$method`: params $params_link, answered with $response_link.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Default)]
pub struct $marker;

impl crate::ServerRequestMethod for $marker {
    const METHOD: &'static str = "$method";
    type Params = crate::types::$params;
    type Response = crate::types::$response;
}

"#;

const ALL: &str = r#"
/// The $count server request methods of the pinned schema, in schema order.
pub const ALL: &[&str] = METHODS;

"#;

const ENUM_DOC: &str = "A request from the server, decoded by its `method`.

Build one with [`ServerRequest::decode`] from the `method` and `params` of an
[`Incoming::Request`](crate::envelope::Incoming::Request); answer it with the matching
marker's [`ServerRequestMethod::Response`](crate::ServerRequestMethod::Response).";

pub fn server_methods_rs(methods: &[RoutedMethod]) -> String {
    let mut s = format!("{HEADER}\n{}", fill!(FILE_DOC));
    for m in methods {
        let response = m.response.as_deref().unwrap_or_default();
        s.push_str(&fill!(
            MARKER,
            method = m.method,
            params_link = link(&m.params),
            response_link = link(response),
            marker = m.variant,
            params = m.params,
            response = response,
        ));
    }
    s.push_str(&fill!(ALL, count = methods.len()));
    routed_enum_src(
        &EnumSpec {
            name: "ServerRequest",
            what: "server request",
            box_large: false,
            unknown_ids: [
                "from the usual places in the raw params",
                "params, ..",
                "crate::support::unknown_thread_id(params)",
                "crate::support::unknown_turn_id(params)",
            ],
            doc: ENUM_DOC,
        },
        methods,
        &mut s,
    );
    s
}
