//! Templates that read as the Rust they produce: `$name` placeholders filled by [`fill`] (the
//! `fill!` macro names them at the call site). A template's first newline (right after
//! `r#"`) is not part of it, and a line holding only a placeholder that fills to nothing
//! disappears (an optional attribute). A placeholder without a value, or a value no placeholder
//! uses, is a bug of the generator and panics with the template's first line, so `cargo xtask
//! codegen` (and its tests) catch it at once. `$$` is a literal `$`.

use std::fmt::Display;

/// `template` with every `$name` replaced by the value of `name` in `vars`.
pub fn fill(template: &str, vars: &[(&str, &dyn Display)]) -> String {
    let template = template.strip_prefix('\n').unwrap_or(template);
    let values: Vec<String> = vars.iter().map(|(_, v)| v.to_string()).collect();
    let mut out = String::with_capacity(template.len() + 64);
    let mut used = vec![false; vars.len()];
    let mut lines = String::with_capacity(template.len());
    for line in template.split_inclusive('\n') {
        let alone = line.trim().strip_prefix('$').and_then(|name| {
            let i = vars.iter().position(|(n, _)| *n == name)?;
            Some(i)
        });
        match alone {
            Some(i) if values[i].is_empty() => used[i] = true,
            _ => lines.push_str(line),
        }
    }
    let mut rest = lines.as_str();
    while let Some(at) = rest.find('$') {
        out.push_str(&rest[..at]);
        let after = &rest[at + 1..];
        if let Some(tail) = after.strip_prefix('$') {
            out.push('$');
            rest = tail;
            continue;
        }
        let len = after
            .find(|c: char| !(c.is_ascii_alphanumeric() || c == '_'))
            .unwrap_or(after.len());
        let name = &after[..len];
        let Some(i) = vars.iter().position(|(n, _)| *n == name) else {
            panic!(
                "template placeholder `${name}` has no value (template starting {:?})",
                first_line(template)
            );
        };
        used[i] = true;
        out.push_str(&values[i]);
        rest = &after[len..];
    }
    out.push_str(rest);
    if let Some(i) = used.iter().position(|u| !u) {
        panic!(
            "value `{}` is used by no placeholder (template starting {:?})",
            vars[i].0,
            first_line(template)
        );
    }
    out
}

/// Lines of generated code placed on a placeholder's own line: without their last newline (the
/// template's line ends there).
pub fn block(lines: &str) -> &str {
    lines.strip_suffix('\n').unwrap_or(lines)
}

fn first_line(template: &str) -> &str {
    template.trim_start().lines().next().unwrap_or_default()
}

/// `fill!(TEMPLATE, name = value, ...)`: [`fill`] with the placeholders named at the call site.
macro_rules! fill {
    ($template:expr $(, $name:ident = $value:expr)* $(,)?) => {
        $crate::codegen::emit::template::fill(
            $template,
            &[$((stringify!($name), &$value as &dyn std::fmt::Display)),*],
        )
    };
}

#[cfg(test)]
mod tests {
    #[test]
    fn fills_named_placeholders_and_keeps_rust_braces() {
        let text = fill!(
            "impl $ty {\n    const N: usize = $n; // $$x\n}\n",
            ty = "Foo",
            n = 3
        );
        assert_eq!(text, "impl Foo {\n    const N: usize = 3; // $x\n}\n");
    }

    #[test]
    fn drops_the_first_newline_and_a_line_that_fills_to_nothing() {
        let template = r#"
    $cfg
    fn f() {}
"#;
        assert_eq!(fill!(template, cfg = ""), "    fn f() {}\n");
        assert_eq!(
            fill!(template, cfg = "#[test]"),
            "    #[test]\n    fn f() {}\n"
        );
    }

    #[test]
    #[should_panic(expected = "`$missing` has no value")]
    fn a_placeholder_without_a_value_panics() {
        let _ = fill!("struct $missing;");
    }

    #[test]
    #[should_panic(expected = "`unused` is used by no placeholder")]
    fn a_value_without_a_placeholder_panics() {
        let _ = fill!("struct A;", unused = 1);
    }
}
