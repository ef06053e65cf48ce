//! Case conversion for generated identifiers: wire names (`camelCase`, `snake_case`, `kebab-case`,
//! `SCREAMING_CASE`, method paths like `item/agentMessage/delta`) to Rust `snake_case` and
//! `PascalCase`.

/// Splits a wire name into words: at separators (`_ - / . : space`), at lower→upper transitions
/// (`agentMessage` → `agent`, `Message`) and before the last capital of an acronym run
/// (`OAuthLogin` → `O`, `Auth`, `Login`).
pub fn words(s: &str) -> Vec<String> {
    let mut out = Vec::new();
    let mut cur = String::new();
    let chars: Vec<char> = s.chars().collect();
    for (i, &c) in chars.iter().enumerate() {
        if !c.is_ascii_alphanumeric() {
            if !cur.is_empty() {
                out.push(std::mem::take(&mut cur));
            }
            continue;
        }
        if c.is_ascii_uppercase() && !cur.is_empty() {
            let prev = chars[i - 1];
            let next_lower = chars.get(i + 1).is_some_and(|n| n.is_ascii_lowercase());
            if prev.is_ascii_lowercase()
                || prev.is_ascii_digit()
                || (prev.is_ascii_uppercase() && next_lower)
            {
                out.push(std::mem::take(&mut cur));
            }
        }
        cur.push(c);
    }
    if !cur.is_empty() {
        out.push(cur);
    }
    out
}

/// `PascalCase`: every word capitalized; all-caps words are lowered after their first letter
/// (`AGENTS_MD` → `AgentsMd`), single capitals stay (`gatewayOAuth` → `GatewayOAuth`).
pub fn pascal(s: &str) -> String {
    let mut out = String::new();
    for w in words(s) {
        let mut cs = w.chars();
        if let Some(f) = cs.next() {
            out.push(f.to_ascii_uppercase());
            let rest: String = cs.collect();
            if w.chars().all(|c| !c.is_ascii_lowercase()) {
                out.push_str(&rest.to_ascii_lowercase());
            } else {
                out.push_str(&rest);
            }
        }
    }
    if out.is_empty() || out.starts_with(|c: char| c.is_ascii_digit()) {
        out.insert(0, 'V');
    }
    out
}

/// `snake_case` field identifier, raw (`r#type`) when it is a Rust keyword.
pub fn snake(s: &str) -> String {
    let mut out = words(s)
        .iter()
        .map(|w| w.to_ascii_lowercase())
        .collect::<Vec<_>>()
        .join("_");
    if out.is_empty() || out.starts_with(|c: char| c.is_ascii_digit()) {
        out.insert(0, 'f');
    }
    if is_keyword(&out) {
        out.insert_str(0, "r#");
    }
    out
}

/// The identifier without a raw prefix (`r#type` → `type`).
pub fn bare(ident: &str) -> &str {
    ident.strip_prefix("r#").unwrap_or(ident)
}

fn is_keyword(s: &str) -> bool {
    matches!(
        s,
        "as" | "async"
            | "await"
            | "break"
            | "const"
            | "continue"
            | "crate"
            | "dyn"
            | "else"
            | "enum"
            | "extern"
            | "false"
            | "fn"
            | "for"
            | "gen"
            | "if"
            | "impl"
            | "in"
            | "let"
            | "loop"
            | "match"
            | "mod"
            | "move"
            | "mut"
            | "pub"
            | "ref"
            | "return"
            | "static"
            | "struct"
            | "super"
            | "trait"
            | "true"
            | "type"
            | "unsafe"
            | "use"
            | "where"
            | "while"
            | "abstract"
            | "become"
            | "box"
            | "do"
            | "final"
            | "macro"
            | "override"
            | "priv"
            | "try"
            | "typeof"
            | "unsized"
            | "virtual"
            | "yield"
    )
}

/// Whether `s` is usable as a Rust type name as it is.
pub fn is_type_ident(s: &str) -> bool {
    let mut cs = s.chars();
    cs.next().is_some_and(|c| c.is_ascii_uppercase()) && cs.all(|c| c.is_ascii_alphanumeric())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn cases() {
        assert_eq!(pascal("item/agentMessage/delta"), "ItemAgentMessageDelta");
        assert_eq!(
            pascal("account/gatewayOAuth/read"),
            "AccountGatewayOAuthRead"
        );
        assert_eq!(pascal("on-request"), "OnRequest");
        assert_eq!(pascal("AGENTS_MD"), "AgentsMd");
        assert_eq!(pascal("input_text"), "InputText");
        assert_eq!(pascal("MO"), "Mo");
        assert_eq!(pascal("thread/inject_items"), "ThreadInjectItems");
        assert_eq!(snake("httpStatusCode"), "http_status_code");
        assert_eq!(snake("type"), "r#type");
        assert_eq!(snake("_meta"), "meta");
        assert_eq!(snake("PreToolUse"), "pre_tool_use");
        assert_eq!(snake("chatgptAccountId"), "chatgpt_account_id");
        assert_eq!(snake("mcpServerOAuthURL"), "mcp_server_o_auth_url");
    }
}
