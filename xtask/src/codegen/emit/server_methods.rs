//! `server_methods.rs`: one marker per server request method, implementing
//! `ServerRequestMethod`, and `ServerRequest`, the requests decoded by method.

use super::routed::{EnumSpec, RoutedMethod, routed_enum_src};
use super::{HEADER, link};
use std::fmt::Write;

pub fn server_methods_rs(methods: &[RoutedMethod]) -> String {
    let mut s = String::new();
    s.push_str(HEADER);
    s.push_str("\n//! Requests the server sends to the client: one marker type per method implementing\n//! [`ServerRequestMethod`](crate::ServerRequestMethod), and [`ServerRequest`], every such request\n//! decoded by method, with the thread and turn it belongs to.\n\n");
    for m in methods {
        let response = m.response.as_deref().unwrap_or_default();
        let _ = writeln!(
            s,
            "/// `{}`: params {}, answered with {}.\n#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Default)]\npub struct {};\n",
            m.method,
            link(&m.params),
            link(response),
            m.variant
        );
        let _ = writeln!(
            s,
            "impl crate::ServerRequestMethod for {} {{\n    const METHOD: &'static str = \"{}\";\n    type Params = crate::types::{};\n    type Response = crate::types::{response};\n}}\n",
            m.variant, m.method, m.params
        );
    }
    let _ = writeln!(
        s,
        "/// The {} server request methods of the pinned schema, in schema order.\npub const ALL: &[&str] = METHODS;\n",
        methods.len()
    );
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
            doc: "A request from the server, decoded by its `method`.\n\nBuild one with [`ServerRequest::decode`] from the `method` and `params` of an\n[`Incoming::Request`](crate::envelope::Incoming::Request); answer it with the matching\nmarker's [`ServerRequestMethod::Response`](crate::ServerRequestMethod::Response).",
        },
        methods,
        &mut s,
    );
    s
}
