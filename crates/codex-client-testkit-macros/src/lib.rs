//! `#[both_ways]`: one test scenario, run against codex-client's async API and its blocking
//! twin. See the README for what the attribute emits and the rules a scenario follows.

use proc_macro::{Delimiter, Group, TokenStream, TokenTree};

/// Turns `async fn name() { body }` into `mod name { #[tokio::test] async fn asynchronous()
/// {..} #[test] fn blocking() {..} }`: the body as is against `codex_client`, and with every
/// `.await` removed against `codex_client::blocking` (see the README).
#[proc_macro_attribute]
pub fn both_ways(args: TokenStream, item: TokenStream) -> TokenStream {
    match expand(args, item) {
        Ok(tokens) => tokens,
        Err(message) => format!("compile_error!({message:?});")
            .parse()
            .expect("an error"),
    }
}

fn expand(args: TokenStream, item: TokenStream) -> Result<TokenStream, String> {
    let timeout_secs = timeout_of(args)?;
    let tokens: Vec<TokenTree> = item.into_iter().collect();
    let mut attrs = Vec::new();
    let mut i = 0;
    while let (Some(TokenTree::Punct(p)), Some(TokenTree::Group(g))) =
        (tokens.get(i), tokens.get(i + 1))
    {
        if p.as_char() != '#' || g.delimiter() != Delimiter::Bracket {
            break;
        }
        attrs.push(tokens[i].clone());
        attrs.push(tokens[i + 1].clone());
        i += 2;
    }
    let rest = &tokens[i..];
    let words: Vec<String> = rest.iter().take(3).map(ToString::to_string).collect();
    if words.first().map(String::as_str) != Some("async")
        || words.get(1).map(String::as_str) != Some("fn")
    {
        return Err("#[both_ways] goes on an `async fn` scenario".into());
    }
    let Some(TokenTree::Ident(name)) = rest.get(2) else {
        return Err("#[both_ways]: the scenario needs a name".into());
    };
    match rest.get(3) {
        Some(TokenTree::Group(params))
            if params.delimiter() == Delimiter::Parenthesis && params.stream().is_empty() => {}
        _ => return Err("#[both_ways]: the scenario takes no parameters".into()),
    }
    let body = match rest.get(4) {
        Some(TokenTree::Group(body)) if body.delimiter() == Delimiter::Brace && rest.len() == 5 => {
            body.stream()
        }
        _ => {
            return Err("#[both_ways]: the scenario returns `()` (no `->`), and has a body".into());
        }
    };
    let attrs: TokenStream = attrs.into_iter().collect();
    let blocking_body = without_await(body.clone());
    let text = format!(
        r#"
#[allow(non_snake_case)]
mod {name} {{
    #[allow(unused_imports)]
    use super::*;

    {attrs}
    #[::tokio::test]
    async fn asynchronous() {{
        #[allow(unused_imports)]
        use codex_client as api;
        #[allow(unused_imports)]
        use crate::sides::asynchronous as side;
        #[allow(unused_imports)]
        use ::futures::StreamExt as _;
        let limit = ::std::time::Duration::from_secs({timeout_secs});
        let scenario = async move {{ __BODY_ASYNC__ }};
        if ::tokio::time::timeout(limit, scenario).await.is_err() {{
            panic!("the async run of `{name}` did not finish within {{limit:?}}");
        }}
    }}

    {attrs}
    #[test]
    fn blocking() {{
        let limit = ::std::time::Duration::from_secs({timeout_secs});
        // Never sent: dropped when the scenario ends (returns or panics).
        let (done, ended) = ::std::sync::mpsc::channel::<()>();
        let runner = ::std::thread::Builder::new()
            .name("{name}".into())
            .spawn(move || {{
                let _done = done;
                #[allow(unused_imports)]
                use codex_client::blocking as api;
                #[allow(unused_imports)]
                use crate::sides::blocking as side;
                __BODY_BLOCKING__
            }})
            .expect("a thread for the scenario");
        match ended.recv_timeout(limit) {{
            Err(::std::sync::mpsc::RecvTimeoutError::Timeout) => {{
                panic!("the blocking run of `{name}` did not finish within {{limit:?}}")
            }}
            _ => {{
                if let Err(panic) = runner.join() {{
                    ::std::panic::resume_unwind(panic);
                }}
            }}
        }}
    }}
}}
"#
    );
    let mut out: TokenStream = text
        .parse()
        .map_err(|e| format!("#[both_ways]: internal expansion error: {e}"))?;
    out = replace(out, "__BODY_ASYNC__", &body);
    out = replace(out, "__BODY_BLOCKING__", &blocking_body);
    Ok(out)
}

/// `timeout_secs = N`, or nothing (120).
fn timeout_of(args: TokenStream) -> Result<u64, String> {
    let tokens: Vec<TokenTree> = args.into_iter().collect();
    match &tokens[..] {
        [] => Ok(120),
        [
            TokenTree::Ident(key),
            TokenTree::Punct(eq),
            TokenTree::Literal(value),
        ] if key.to_string() == "timeout_secs" && eq.as_char() == '=' => {
            value.to_string().parse().map_err(|_| {
                format!("#[both_ways]: timeout_secs = {value} is not a number of seconds")
            })
        }
        _ => Err("#[both_ways] takes nothing or `timeout_secs = N`".into()),
    }
}

/// `tokens` with every `.await` left out, in nested groups too.
fn without_await(tokens: TokenStream) -> TokenStream {
    let tokens: Vec<TokenTree> = tokens.into_iter().collect();
    let mut out = Vec::with_capacity(tokens.len());
    let mut i = 0;
    while i < tokens.len() {
        if let (TokenTree::Punct(dot), Some(TokenTree::Ident(word))) =
            (&tokens[i], tokens.get(i + 1))
            && dot.as_char() == '.'
            && word.to_string() == "await"
        {
            i += 2;
            continue;
        }
        out.push(match &tokens[i] {
            TokenTree::Group(g) => TokenTree::Group(regroup(g, without_await(g.stream()))),
            other => other.clone(),
        });
        i += 1;
    }
    out.into_iter().collect()
}

/// Puts `body` where the placeholder identifier `marker` is.
fn replace(tokens: TokenStream, marker: &str, body: &TokenStream) -> TokenStream {
    let mut out = Vec::new();
    for token in tokens {
        match token {
            TokenTree::Ident(ident) if ident.to_string() == marker => out.extend(body.clone()),
            TokenTree::Group(g) => out.push(TokenTree::Group(regroup(
                &g,
                replace(g.stream(), marker, body),
            ))),
            other => out.push(other),
        }
    }
    out.into_iter().collect()
}

fn regroup(group: &Group, stream: TokenStream) -> Group {
    let mut new = Group::new(group.delimiter(), stream);
    new.set_span(group.span());
    new
}
