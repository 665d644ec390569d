//! `#[corio::main]` and `#[corio::test]`: run an `async fn` on a fresh corio
//! runtime (asyncio's `asyncio.run(main())`).
//!
//! Both turn
//!
//! ```ignore
//! #[corio::main(worker_threads = 4)]
//! async fn main() -> Result<(), Error> { body }
//! ```
//!
//! into a plain function that builds a runtime with
//! `corio::runtime::Builder` and blocks on the body:
//!
//! ```ignore
//! fn main() -> Result<(), Error> {
//!     async fn __corio_body() -> Result<(), Error> { body }
//!     corio::runtime::Builder::new()
//!         .worker_threads(4)
//!         .build()
//!         .expect("corio: failed to build the runtime")
//!         .block_on(__corio_body())
//! }
//! ```
//!
//! The body stays an `async fn` of its own so that its return type, `?` and
//! `return` mean exactly what they meant before. `#[corio::test]` adds
//! `#[test]`.
//!
//! Arguments, all optional, comma-separated:
//! - `worker_threads = N`: N ≥ 1 worker threads (default: the runtime's,
//!   one per core or `CORIO_WORKER_THREADS`);
//! - `debug = true|false`: asyncio's debug mode (default: `CORIO_DEBUG`);
//! - `crate = "path"`: where the `corio` crate is, when it was renamed or
//!   re-exported (default `::corio`).

use proc_macro::TokenStream;
use proc_macro2::{Span, TokenStream as TokenStream2};
use quote::{quote, quote_spanned};
use syn::parse::Parser;
use syn::punctuated::Punctuated;
use syn::spanned::Spanned;
use syn::{Expr, ExprLit, ItemFn, Lit, MetaNameValue, Token};

/// Runs an `async fn main` on a new corio runtime.
///
/// ```ignore
/// #[corio::main]
/// async fn main() {
///     let answer = corio::spawn(async { 42 }).await.unwrap();
///     println!("{answer}");
/// }
/// ```
///
/// Takes `worker_threads = N` (N ≥ 1), `debug = bool` and `crate = "path"`;
/// `main` may return a value, such as a `Result`.
#[proc_macro_attribute]
pub fn main(args: TokenStream, item: TokenStream) -> TokenStream {
    expand_or_report(args.into(), item.into(), Kind::Main).into()
}

/// Runs an `async fn` test on a new corio runtime; the function becomes a
/// `#[test]`.
///
/// ```ignore
/// #[corio::test(worker_threads = 2)]
/// async fn adds() {
///     assert_eq!(corio::spawn(async { 1 + 1 }).await.unwrap(), 2);
/// }
/// ```
///
/// Takes the same arguments as [`macro@main`]. Other attributes such as
/// `#[should_panic]` or `#[ignore]` are kept.
#[proc_macro_attribute]
pub fn test(args: TokenStream, item: TokenStream) -> TokenStream {
    expand_or_report(args.into(), item.into(), Kind::Test).into()
}

/// Expands, or on misuse gives the error plus a plain stub of the function,
/// so the error is the only one reported (no "`main` function not found").
fn expand_or_report(args: TokenStream2, item: TokenStream2, kind: Kind) -> TokenStream2 {
    match expand(args, item.clone(), kind) {
        Ok(tokens) => tokens,
        Err(error) => {
            let error = error.into_compile_error();
            match syn::parse2::<ItemFn>(item) {
                Ok(function) => {
                    let name = &function.sig.ident;
                    let vis = &function.vis;
                    quote! {
                        #error
                        #[allow(dead_code)]
                        #vis fn #name() {}
                    }
                }
                Err(_) => error,
            }
        }
    }
}

#[derive(Clone, Copy, PartialEq)]
enum Kind {
    Main,
    Test,
}

impl Kind {
    fn attr(self) -> &'static str {
        match self {
            Kind::Main => "#[corio::main]",
            Kind::Test => "#[corio::test]",
        }
    }
}

/// What the attribute's arguments asked for.
struct Config {
    worker_threads: Option<(usize, Span)>,
    debug: Option<bool>,
    krate: syn::Path,
}

fn parse_config(args: TokenStream2, kind: Kind) -> syn::Result<Config> {
    let mut config = Config {
        worker_threads: None,
        debug: None,
        krate: syn::parse_quote!(::corio),
    };
    let args = Punctuated::<MetaNameValue, Token![,]>::parse_terminated.parse2(args)?;
    let mut seen = Vec::new();
    for arg in args {
        let name = arg
            .path
            .get_ident()
            .map(ToString::to_string)
            .or_else(|| {
                // `crate` is a keyword, so it is not an `Ident`.
                arg.path.is_ident("crate").then(|| "crate".to_owned())
            })
            .unwrap_or_else(|| {
                let path = &arg.path;
                quote!(#path).to_string()
            });
        if seen.contains(&name) {
            return Err(syn::Error::new_spanned(
                &arg.path,
                format!("`{name}` is given twice"),
            ));
        }
        seen.push(name.clone());
        match name.as_str() {
            "worker_threads" => {
                let lit = int_lit(&arg.value, "worker_threads")?;
                let n: usize = lit.base10_parse()?;
                if n == 0 {
                    return Err(syn::Error::new_spanned(
                        lit,
                        "`worker_threads` must be at least 1",
                    ));
                }
                config.worker_threads = Some((n, lit.span()));
            }
            "debug" => match &arg.value {
                Expr::Lit(ExprLit {
                    lit: Lit::Bool(b), ..
                }) => config.debug = Some(b.value),
                other => {
                    return Err(syn::Error::new_spanned(
                        other,
                        "`debug` takes `true` or `false`",
                    ))
                }
            },
            "crate" => match &arg.value {
                Expr::Lit(ExprLit {
                    lit: Lit::Str(s), ..
                }) => config.krate = s.parse()?,
                other => {
                    return Err(syn::Error::new_spanned(
                        other,
                        "`crate` takes a path in a string, such as `crate = \"my::corio\"`",
                    ))
                }
            },
            _ => {
                return Err(syn::Error::new_spanned(
                    &arg.path,
                    format!(
                        "unknown argument `{name}` to {}; expected `worker_threads = N`, \
                         `debug = bool` or `crate = \"path\"`",
                        kind.attr()
                    ),
                ))
            }
        }
    }
    Ok(config)
}

fn int_lit<'a>(value: &'a Expr, name: &str) -> syn::Result<&'a syn::LitInt> {
    match value {
        Expr::Lit(ExprLit {
            lit: Lit::Int(lit), ..
        }) => Ok(lit),
        other => Err(syn::Error::new_spanned(
            other,
            format!("`{name}` takes an integer literal, such as `{name} = 4`"),
        )),
    }
}

fn expand(args: TokenStream2, item: TokenStream2, kind: Kind) -> syn::Result<TokenStream2> {
    // Parse the arguments only after the function, so a bad function is
    // reported even when the arguments are bad too.
    let function: ItemFn = syn::parse2(item)?;
    let sig = &function.sig;
    if sig.asyncness.is_none() {
        return Err(syn::Error::new_spanned(
            sig.fn_token,
            format!(
                "{} needs an `async fn`: add `async` before `fn`",
                kind.attr()
            ),
        ));
    }
    if !sig.inputs.is_empty() {
        return Err(syn::Error::new_spanned(
            &sig.inputs,
            format!("{} takes a function without arguments", kind.attr()),
        ));
    }
    if !sig.generics.params.is_empty() || sig.generics.where_clause.is_some() {
        return Err(syn::Error::new_spanned(
            &sig.generics,
            format!("{} takes a function without generics", kind.attr()),
        ));
    }
    if kind == Kind::Test {
        if let Some(attr) = function.attrs.iter().find(|a| a.path().is_ident("test")) {
            return Err(syn::Error::new_spanned(
                attr,
                "#[corio::test] already adds #[test]; remove this one",
            ));
        }
    }
    let config = parse_config(args, kind)?;

    let ItemFn {
        attrs,
        vis,
        sig,
        block,
    } = function;
    let krate = &config.krate;
    let output = &sig.output;
    let unsafety = &sig.unsafety;
    let name = &sig.ident;

    let mut builder = quote!(#krate::runtime::Builder::new());
    if let Some((n, span)) = config.worker_threads {
        builder = quote_spanned!(span=> #builder.worker_threads(#n));
    }
    if let Some(debug) = config.debug {
        builder = quote!(#builder.debug(#debug));
    }
    let test_attr = match kind {
        Kind::Test => quote!(#[::core::prelude::v1::test]),
        Kind::Main => quote!(),
    };
    let body_span = block.span();
    let run = quote_spanned! {body_span=>
        #builder
            .build()
            .expect("corio: failed to build the runtime")
            .block_on(__corio_body())
    };

    Ok(quote! {
        #test_attr
        #(#attrs)*
        #vis #unsafety fn #name() #output {
            async fn __corio_body() #output #block
            #run
        }
    })
}
