//! Routing without decoding: [`ServerNotification::route_raw`] finds the thread and turn a
//! notification belongs to ([`RawRoute`]) in one borrowed pass over its raw params, without
//! building the typed params, so a reader thread can route a line and leave the decoding to
//! whoever consumes it.
//!
//! Hand-written. The answers are those of [`ServerNotification::decode`] followed by
//! [`thread_id`](ServerNotification::thread_id) / [`turn_id`](ServerNotification::turn_id),
//! including the fallback order for methods this crate does not know
//! (`crate::support::unknown_thread_id` / `unknown_turn_id`). One concept a module:
//!
//! | module | owns |
//! |---|---|
//! | `raw_route` | [`RawRoute`] and [`ServerNotification::route_raw`], which picks the places to read for a method and reads them |
//! | `id_path` | `IdPath`, the places in params where the schema puts a routing id (the generated `id_paths` maps every known method to them, and `cargo xtask codegen` fails if the schema ever uses a place this enum cannot express), the fallback places of unknown methods, and reading a place of a decoded `Value` |
//! | `scanner` | the byte scan of the params text (`Cursor`) that reads only the keys and the values it wants and jumps over every other value (it trusts the text to be valid JSON, as a `RawValue` is, and gives no ids rather than panicking when it is not) |
//! | `decode_routed` | [`ServerNotification::decode_routed`], decoding a routed notification so that its ids are the route's |

#[cfg(doc)]
use crate::ServerNotification;

mod decode_routed;
mod id_path;
mod raw_route;
mod scanner;

// The generated `notifications` module names these by `crate::routing::…`.
pub(crate) use id_path::{IdPath, unknown_thread_id, unknown_turn_id};
pub use raw_route::RawRoute;
