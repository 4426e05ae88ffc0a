//! The `#[readyloop::test]` and `#[readyloop::main]` attributes.
//!
//! Use them through readyloop's `macros` feature, not from this crate directly. Each one
//! rewrites an `async fn` into a plain `fn` that hands the body to a small function in
//! `readyloop::__private`, which owns all the behaviour (the fresh loop, the deadline, the
//! report). This crate must never hold runtime logic of its own, so the report can improve
//! without touching the macros; and it has no dependencies: the item is read by hand from the
//! compiler's tokens, which keeps the build a fraction of a second.
#![warn(missing_docs, missing_debug_implementations, rust_2018_idioms)]

use proc_macro::{Delimiter, Group, Ident, Literal, Punct, Spacing, Span, TokenStream, TokenTree};

/// The deadline of a `#[readyloop::test]` when none is given.
const DEFAULT_TEST_TIMEOUT_MS: u64 = 30_000;

/// Runs an `async fn` test on a fresh readyloop loop, failing it if it has not finished by a
/// deadline (30 s unless `timeout = "..."` says otherwise, in `ms`, `s` or `min`).
///
/// The test may take one argument, the loop's [`Handle`], or find it with
/// `Handle::current()`; it may return `()` or a `Result`, like any `#[test]`. Other
/// attributes (`#[ignore]`, `#[should_panic]`) go below it. A test that does not finish in
/// time panics with the loop's report of what each pending task waits for, instead of
/// hanging the test run.
///
/// ```
/// use core::time::Duration;
/// use readyloop::Handle;
///
/// #[readyloop::test]
/// async fn sleeps_at_least_as_long_as_asked(handle: Handle) {
///     let start = handle.now();
///     handle.sleep(Duration::from_millis(10)).await;
///     assert!(handle.now() - start >= Duration::from_millis(10));
/// }
///
/// #[readyloop::test(timeout = "500ms")]
/// async fn may_fail_with_a_result() -> Result<(), readyloop::Error> {
///     let handle = Handle::current();
///     handle.spawn(async { 7 }).await.unwrap();
///     Ok(())
/// }
/// ```
///
/// `virtual_clock` (or its alias `start_paused`, tokio's name) runs the test on a virtual
/// clock (`Builder::virtual_clock`): idle time, quiet sockets included, is skipped.
/// `shuffle = N` runs the test `N` times, under the shuffle seeds `0..N`
/// (`Builder::shuffle`), and on a failure names the seed; `READYLOOP_SEED=s` in the
/// environment runs just seed `s`. They combine: `#[readyloop::test(virtual_clock,
/// shuffle = 100, timeout = "5s")]`.
///
/// ```
/// use core::time::Duration;
/// use readyloop::Handle;
///
/// #[readyloop::test(virtual_clock)]
/// async fn an_hour_in_no_time(handle: Handle) {
///     handle.sleep(Duration::from_secs(3600)).await;
/// }
///
/// #[readyloop::test(start_paused, shuffle = 10)]
/// async fn under_ten_orders(handle: Handle) {
///     let a = handle.spawn(async { 1 });
///     let b = handle.spawn(async { 2 });
///     assert_eq!(a.await.unwrap() + b.await.unwrap(), 3);
/// }
/// ```
///
/// (In a doctest, as in any build without `cfg(test)`, `#[test]` functions are left out; in
/// `tests/` or a `#[cfg(test)]` module they run with `cargo test`.)
///
/// [`Handle`]: https://docs.rs/readyloop/latest/readyloop/struct.Handle.html
#[proc_macro_attribute]
pub fn test(args: TokenStream, item: TokenStream) -> TokenStream {
    expand(Kind::Test, args, item).unwrap_or_else(CompileError::into_tokens)
}

/// Runs an `async fn main` on a readyloop loop and returns its output.
///
/// Like `#[readyloop::test]`, `main` may take the loop's `Handle` as its one argument and
/// may return a `Result`.
///
/// ```
/// use core::time::Duration;
///
/// #[readyloop::main]
/// async fn main(handle: readyloop::Handle) -> Result<(), readyloop::Error> {
///     handle.sleep(Duration::from_millis(1)).await;
///     println!("slept on readyloop");
///     Ok(())
/// }
/// ```
#[proc_macro_attribute]
pub fn main(args: TokenStream, item: TokenStream) -> TokenStream {
    expand(Kind::Main, args, item).unwrap_or_else(CompileError::into_tokens)
}

#[derive(Clone, Copy, PartialEq)]
enum Kind {
    Test,
    Main,
}

impl Kind {
    fn attribute(self) -> &'static str {
        match self {
            Kind::Test => "#[readyloop::test]",
            Kind::Main => "#[readyloop::main]",
        }
    }
}

/// A message for `compile_error!`, at the span of the token that caused it.
struct CompileError {
    span: Span,
    message: String,
}

impl CompileError {
    fn new(span: Span, message: impl Into<String>) -> Self {
        CompileError {
            span,
            message: message.into(),
        }
    }

    /// `::core::compile_error! { "message" }`, every token at the offending span.
    fn into_tokens(self) -> TokenStream {
        let span = self.span;
        let mut message = Literal::string(&self.message);
        message.set_span(span);
        let mut out = path(&["core", "compile_error"], span);
        out.push(punct('!', span));
        out.push(group(
            Delimiter::Brace,
            TokenStream::from(TokenTree::Literal(message)),
            span,
        ));
        out.into_iter().collect()
    }
}

/// The parts of the `async fn` the attribute was put on.
struct AsyncFn {
    /// Outer attributes and doc comments, kept on the generated `fn`.
    attributes: Vec<TokenTree>,
    /// `pub`, `pub(crate)`, ... or nothing.
    visibility: Vec<TokenTree>,
    name: Ident,
    /// The argument list without its parentheses (empty, or one `pattern: Type`).
    arguments: TokenStream,
    /// `-> Type`, or nothing.
    output: Vec<TokenTree>,
    body: Group,
}

fn expand(kind: Kind, args: TokenStream, item: TokenStream) -> Result<TokenStream, CompileError> {
    let test_args = match kind {
        Kind::Test => parse_test_args(args)?,
        Kind::Main => {
            if let Some(first) = args.into_iter().next() {
                return Err(CompileError::new(
                    first.span(),
                    "#[readyloop::main] takes no arguments",
                ));
            }
            TestArgs {
                timeout_ms: 0,
                virtual_clock: false,
                shuffle: 0,
            }
        }
    };
    let f = parse_async_fn(kind, item)?;
    check_arguments(kind, &f)?;
    Ok(generate(kind, test_args, f))
}

/// What `#[readyloop::test(...)]` asked for.
#[derive(Debug, Clone, Copy)]
struct TestArgs {
    timeout_ms: u64,
    virtual_clock: bool,
    /// How many shuffle seeds to run (0: no shuffling).
    shuffle: u64,
}

/// Reads `timeout = "5s"`, `virtual_clock` (or `start_paused`) and `shuffle = N`, comma
/// separated, in any order (or nothing).
fn parse_test_args(args: TokenStream) -> Result<TestArgs, CompileError> {
    let mut out = TestArgs {
        timeout_ms: DEFAULT_TEST_TIMEOUT_MS,
        virtual_clock: false,
        shuffle: 0,
    };
    let usage = "expected `#[readyloop::test]` or `#[readyloop::test(timeout = \"5s\", \
                 virtual_clock, shuffle = 100)]` (any of them; timeout units: ms, s, min)";
    let tokens: Vec<TokenTree> = args.into_iter().collect();
    for item in tokens.split(|t| matches!(t, TokenTree::Punct(p) if p.as_char() == ',')) {
        match item {
            [] => continue,
            [TokenTree::Ident(key)] => match key.to_string().as_str() {
                "virtual_clock" | "start_paused" => out.virtual_clock = true,
                _ => {
                    return Err(CompileError::new(
                        key.span(),
                        format!("unknown argument `{key}`: {usage}"),
                    ))
                }
            },
            [TokenTree::Ident(key), TokenTree::Punct(eq), value] if eq.as_char() == '=' => {
                let text = value.to_string();
                match key.to_string().as_str() {
                    "timeout" => {
                        let Some(inner) = text.strip_prefix('"').and_then(|t| t.strip_suffix('"'))
                        else {
                            return Err(CompileError::new(value.span(), usage));
                        };
                        out.timeout_ms = parse_duration_ms(inner)
                            .map_err(|why| CompileError::new(value.span(), why))?;
                    }
                    "start_paused" | "virtual_clock" => match text.as_str() {
                        "true" => out.virtual_clock = true,
                        "false" => out.virtual_clock = false,
                        _ => {
                            return Err(CompileError::new(
                                value.span(),
                                format!("`{key}` is `true` or `false`"),
                            ))
                        }
                    },
                    "shuffle" => match text.parse::<u64>() {
                        Ok(n) if n > 0 => out.shuffle = n,
                        _ => {
                            return Err(CompileError::new(
                                value.span(),
                                "`shuffle` is how many seeds to run: a whole number above zero",
                            ))
                        }
                    },
                    _ => {
                        return Err(CompileError::new(
                            key.span(),
                            format!("unknown argument `{key}`: {usage}"),
                        ))
                    }
                }
            }
            [first, ..] => return Err(CompileError::new(first.span(), usage)),
        }
    }
    Ok(out)
}

/// `"250ms"`, `"5s"`, `"2min"` -> milliseconds (a whole, positive number and a unit).
fn parse_duration_ms(text: &str) -> Result<u64, String> {
    let digits = text.trim_end_matches(|c: char| c.is_ascii_alphabetic());
    let unit = &text[digits.len()..];
    let number: u64 = digits.trim().parse().map_err(|_| {
        format!("cannot read the timeout `{text}`: write a whole number and a unit, like \"5s\" or \"250ms\"")
    })?;
    let scale = match unit {
        "ms" => 1,
        "s" => 1_000,
        "min" => 60_000,
        _ => {
            return Err(format!(
                "unknown unit in the timeout `{text}`: use ms, s or min"
            ))
        }
    };
    match number.checked_mul(scale) {
        Some(0) => Err("the timeout must be longer than zero".into()),
        Some(ms) => Ok(ms),
        None => Err(format!("the timeout `{text}` is too long")),
    }
}

fn parse_async_fn(kind: Kind, item: TokenStream) -> Result<AsyncFn, CompileError> {
    let tokens: Vec<TokenTree> = item.into_iter().collect();
    let mut i = 0;
    let at = |i: usize| tokens.get(i);
    let end_span = tokens.last().map_or_else(Span::call_site, TokenTree::span);
    let needs_async = || {
        format!(
            "{} goes on an `async fn` (without generics, `const`, `unsafe` or `extern`)",
            kind.attribute()
        )
    };

    let mut attributes = Vec::new();
    while let (Some(TokenTree::Punct(p)), Some(TokenTree::Group(g))) = (at(i), at(i + 1)) {
        if p.as_char() != '#' || g.delimiter() != Delimiter::Bracket {
            break;
        }
        attributes.extend_from_slice(&tokens[i..i + 2]);
        i += 2;
    }

    let mut visibility = Vec::new();
    if let Some(TokenTree::Ident(id)) = at(i) {
        if id.to_string() == "pub" {
            visibility.push(tokens[i].clone());
            i += 1;
            if let Some(TokenTree::Group(g)) = at(i) {
                if g.delimiter() == Delimiter::Parenthesis {
                    visibility.push(tokens[i].clone());
                    i += 1;
                }
            }
        }
    }

    match at(i) {
        Some(TokenTree::Ident(id)) if id.to_string() == "async" => i += 1,
        Some(t) => return Err(CompileError::new(t.span(), needs_async())),
        None => return Err(CompileError::new(end_span, needs_async())),
    }
    match at(i) {
        Some(TokenTree::Ident(id)) if id.to_string() == "fn" => i += 1,
        Some(t) => return Err(CompileError::new(t.span(), needs_async())),
        None => return Err(CompileError::new(end_span, needs_async())),
    }
    let name = match at(i) {
        Some(TokenTree::Ident(id)) => id.clone(),
        Some(t) => return Err(CompileError::new(t.span(), needs_async())),
        None => return Err(CompileError::new(end_span, needs_async())),
    };
    i += 1;
    let arguments = match at(i) {
        Some(TokenTree::Group(g)) if g.delimiter() == Delimiter::Parenthesis => g.stream(),
        Some(t) => {
            return Err(CompileError::new(
                t.span(),
                format!("{} does not support generic parameters", kind.attribute()),
            ))
        }
        None => return Err(CompileError::new(end_span, needs_async())),
    };
    i += 1;

    let body = match tokens.last() {
        Some(TokenTree::Group(g)) if g.delimiter() == Delimiter::Brace && tokens.len() > i => {
            g.clone()
        }
        _ => return Err(CompileError::new(end_span, needs_async())),
    };
    let output: Vec<TokenTree> = tokens[i..tokens.len() - 1].to_vec();
    for t in &output {
        if let TokenTree::Ident(id) = t {
            if id.to_string() == "where" {
                return Err(CompileError::new(
                    id.span(),
                    format!("{} does not support `where` clauses", kind.attribute()),
                ));
            }
        }
    }
    if let Some(first) = output.first() {
        let arrow = matches!(
            (output.first(), output.get(1)),
            (Some(TokenTree::Punct(a)), Some(TokenTree::Punct(b)))
                if a.as_char() == '-' && b.as_char() == '>'
        );
        if !arrow || output.len() < 3 {
            return Err(CompileError::new(first.span(), needs_async()));
        }
    }

    Ok(AsyncFn {
        attributes,
        visibility,
        name,
        arguments,
        output,
        body,
    })
}

/// At most one argument (the loop's `Handle`), and none of `self`.
fn check_arguments(kind: Kind, f: &AsyncFn) -> Result<(), CompileError> {
    let mut depth = 0i32;
    let mut previous_was_minus = false;
    let mut arguments = 0;
    let mut in_argument = false;
    for t in f.arguments.clone() {
        let minus = matches!(&t, TokenTree::Punct(p) if p.as_char() == '-');
        match &t {
            TokenTree::Punct(p) if p.as_char() == '<' => depth += 1,
            // The `>` of a `->` (in a function-pointer type) closes nothing.
            TokenTree::Punct(p) if p.as_char() == '>' && !previous_was_minus => depth -= 1,
            TokenTree::Punct(p) if p.as_char() == ',' && depth == 0 => {
                in_argument = false;
                previous_was_minus = false;
                continue;
            }
            TokenTree::Ident(id) if id.to_string() == "self" => {
                return Err(CompileError::new(
                    id.span(),
                    format!("{} cannot be used on a method", kind.attribute()),
                ))
            }
            _ => {}
        }
        previous_was_minus = minus;
        if !in_argument {
            in_argument = true;
            arguments += 1;
            if arguments > 1 {
                return Err(CompileError::new(
                    t.span(),
                    format!(
                        "{} takes at most one argument: the loop's `readyloop::Handle`",
                        kind.attribute()
                    ),
                ));
            }
        }
    }
    Ok(())
}

/// ```text
/// #[attributes] #[test]
/// vis fn name() -> Output {
///     async fn __readyloop_body(arguments) -> Output { body }
///     ::readyloop::__private::run_test(timeout_ms, "name", __readyloop_body)
/// }
/// ```
fn generate(kind: Kind, args: TestArgs, f: AsyncFn) -> TokenStream {
    // Everything generated, the call to the runner included, is spanned at the test's name:
    // the runner is `#[track_caller]`, so a stuck test's panic points at the test itself.
    let span = f.name.span();
    let body_name = Ident::new("__readyloop_body", span);
    let has_argument = !f.arguments.is_empty();

    let mut inner = vec![
        ident("async", span),
        ident("fn", span),
        TokenTree::Ident(body_name.clone()),
        group(Delimiter::Parenthesis, f.arguments, span),
    ];
    inner.extend(f.output.iter().cloned());
    inner.push(TokenTree::Group(f.body));

    // The plain runner unless the loop needs options (`run_test_with`).
    let with_options = args.virtual_clock || args.shuffle > 0;
    let runner = match kind {
        Kind::Test if with_options => "run_test_with",
        Kind::Test => "run_test",
        Kind::Main => "run_main",
    };
    let mut call_args = Vec::new();
    if kind == Kind::Test {
        call_args.push(TokenTree::Literal(Literal::u64_suffixed(args.timeout_ms)));
        call_args.push(punct(',', span));
        if with_options {
            call_args.push(ident(
                if args.virtual_clock { "true" } else { "false" },
                span,
            ));
            call_args.push(punct(',', span));
            call_args.push(TokenTree::Literal(Literal::u64_suffixed(args.shuffle)));
            call_args.push(punct(',', span));
        }
        call_args.push(TokenTree::Literal(Literal::string(&f.name.to_string())));
        call_args.push(punct(',', span));
    }
    if has_argument {
        call_args.push(TokenTree::Ident(body_name));
    } else {
        // |_| __readyloop_body()
        call_args.push(punct('|', span));
        call_args.push(ident("_", span));
        call_args.push(punct('|', span));
        call_args.push(TokenTree::Ident(body_name));
        call_args.push(group(Delimiter::Parenthesis, TokenStream::new(), span));
    }
    inner.extend(path(&["readyloop", "__private", runner], span));
    inner.push(group(
        Delimiter::Parenthesis,
        call_args.into_iter().collect(),
        span,
    ));

    let mut out = f.attributes;
    if kind == Kind::Test {
        // #[::core::prelude::v1::test]
        out.push(punct('#', span));
        out.push(group(
            Delimiter::Bracket,
            path(&["core", "prelude", "v1", "test"], span)
                .into_iter()
                .collect(),
            span,
        ));
    }
    out.extend(f.visibility);
    out.push(ident("fn", span));
    out.push(TokenTree::Ident(f.name));
    out.push(group(Delimiter::Parenthesis, TokenStream::new(), span));
    out.extend(f.output);
    out.push(group(Delimiter::Brace, inner.into_iter().collect(), span));
    out.into_iter().collect()
}

fn ident(name: &str, span: Span) -> TokenTree {
    TokenTree::Ident(Ident::new(name, span))
}

fn punct(c: char, span: Span) -> TokenTree {
    let mut p = Punct::new(c, Spacing::Alone);
    p.set_span(span);
    TokenTree::Punct(p)
}

fn group(delimiter: Delimiter, stream: TokenStream, span: Span) -> TokenTree {
    let mut g = Group::new(delimiter, stream);
    g.set_span(span);
    TokenTree::Group(g)
}

/// `::a::b::c` as tokens.
fn path(segments: &[&str], span: Span) -> Vec<TokenTree> {
    let mut out = Vec::new();
    for segment in segments {
        let mut first = Punct::new(':', Spacing::Joint);
        first.set_span(span);
        out.push(TokenTree::Punct(first));
        out.push(punct(':', span));
        out.push(ident(segment, span));
    }
    out
}
