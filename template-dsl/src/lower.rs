//! Lowering: a checked template becomes one expression of builder calls.
//!
//! Every path is absolute (`::sandbox_template::__private::...`), so the expansion compiles
//! whatever the user has in scope (a shadowed `Result`, `String`, `Vec`, or no prelude at all),
//! and every call is spanned at its statement's keyword, so the `#[track_caller]` locations the
//! runtime records (and names in build errors) point at the DSL statement.

use proc_macro2::{Literal, Span, TokenStream};
use quote::{ToTokens, format_ident, quote, quote_spanned};

use crate::files::EntryKind;
use crate::model::{BaseOp, Checked, ContextDir, OpKind, ReadyOp, SecretSrc, Str};
use sandbox_template_runtime::Provider;

fn p() -> TokenStream {
    quote!(::sandbox_template::__private)
}

/// The template as an expression of type `Template`.
pub fn lower(c: &Checked) -> TokenStream {
    let p = p();
    let mut items = TokenStream::new();
    let mut chain = quote!(#p::Template::new());
    if c.embed.is_none() {
        // `include_bytes!` makes rustc record the file as an input: editing it rebuilds the crate.
        for path in &c.tracked {
            let path = path.to_string_lossy();
            items.extend(quote!(
                const _: &[::core::primitive::u8] = ::core::include_bytes!(#path);
            ));
        }
    }
    match &c.context {
        ContextDir::Dir(d) => {
            let d = d.to_string_lossy();
            chain.extend(quote!(.with_context(#d)));
        }
        ContextDir::Expr(t, s) => chain.extend(quote_spanned!(*s=> .with_context(#p::DirValue::into_value(#t)))),
        ContextDir::Unknown => {}
    }
    if !c.ignore.is_empty() {
        let list = list(&c.ignore);
        chain.extend(quote!(.with_ignore_patterns(#list)));
    }
    if let Some(provider) = c.provider {
        let variant = match provider {
            Provider::E2b => quote!(E2b),
            Provider::Novita => quote!(Novita),
        };
        chain.extend(quote!(.for_provider(#p::Provider::#variant)));
    }
    if let (Some(entries), ContextDir::Dir(dir)) = (&c.embed, &c.context) {
        let dir = dir.to_string_lossy();
        let entries = entries.iter().filter(|e| e.kind != EntryKind::Other).map(|e| {
            let rel = &e.rel;
            let mode = Literal::u32_unsuffixed(e.mode);
            let kind = match &e.kind {
                EntryKind::File => {
                    let abs = e.abs.to_string_lossy();
                    quote!(#p::EmbeddedKind::File(::core::include_bytes!(#abs)))
                }
                EntryKind::Dir => quote!(#p::EmbeddedKind::Dir),
                EntryKind::Symlink(target) => quote!(#p::EmbeddedKind::Symlink(#target)),
                EntryKind::Other => TokenStream::new(),
            };
            quote!(#p::EmbeddedEntry { path: #rel, mode: #mode, kind: #kind })
        });
        items.extend(quote! {
            static FILES: #p::EmbeddedDir = #p::EmbeddedDir::new(#dir, &[#(#entries),*]);
        });
        chain.extend(quote!(.with_embedded_context(&FILES)));
    }
    for op in &c.ops {
        chain.extend(op_tokens(&op.kind, op.span));
    }
    quote!({ #items #chain })
}

fn op_tokens(kind: &OpKind, span: Span) -> TokenStream {
    let p = p();
    let opt_str = |name: &str, v: &Option<Str>| -> TokenStream {
        let name = format_ident!("{name}");
        v.as_ref()
            .map(|v| {
                let v = one(v);
                quote!(.#name(#v))
            })
            .unwrap_or_default()
    };
    let flag = |name: &str, v: bool| -> TokenStream {
        let name = format_ident!("{name}");
        if v { quote!(.#name(true)) } else { TokenStream::new() }
    };
    let opt_flag = |name: &str, v: Option<bool>| -> TokenStream {
        let name = format_ident!("{name}");
        v.map(|v| quote!(.#name(#v))).unwrap_or_default()
    };
    let opt_u32 = |name: &str, v: Option<u32>| -> TokenStream {
        let name = format_ident!("{name}");
        v.map(|v| {
            let v = Literal::u32_unsuffixed(v);
            quote!(.#name(#v))
        })
        .unwrap_or_default()
    };
    match kind {
        OpKind::SkipCache => quote_spanned!(span=> .skip_cache()),
        OpKind::Base(b) => match b {
            BaseOp::Distro(distro, v) => {
                // Found by keyword at compile time, so the expansion names the table's entry
                // instead of a method per distro.
                let keyword = distro.keyword;
                let v = match v {
                    Some(v) => one_into(v, quote!(#p::Version)),
                    None => quote!(::core::option::Option::<&::core::primitive::str>::None),
                };
                quote_spanned!(span=> .from_distro_image(
                    const { #p::distro_named(#keyword) },
                    #v
                ))
            }
            BaseOp::Default => quote_spanned!(span=> .from_base_image()),
            BaseOp::Image(image, creds, inherit) => {
                let image = one(image);
                let base = match creds {
                    None => quote_spanned!(span=> .from_image(#image)),
                    Some((u, pw)) => {
                        let (u, pw) = (secret(u), secret(pw));
                        quote_spanned!(span=> .from_image_with_credentials(#image, #u, #pw))
                    }
                };
                if *inherit { base } else { quote_spanned!(span=> #base.inherit_config(false)) }
            }
            BaseOp::Aws { image, access_key_id, secret_access_key, region }
            | BaseOp::Huawei { image, access_key_id, secret_access_key, region } => {
                let method = if matches!(b, BaseOp::Aws { .. }) { "from_aws_registry" } else { "from_huawei_registry" };
                let method = format_ident!("{method}", span = span);
                let (image, k, s, r) = (one(image), secret(access_key_id), secret(secret_access_key), one(region));
                quote_spanned!(span=> .#method(#image, #k, #s, #r))
            }
            BaseOp::Gcp { image, service_account } => {
                let image = one(image);
                let sa = match service_account {
                    SecretSrc::File(path) => {
                        let path = one_into(path, quote!(#p::PathBuf));
                        quote!(#p::GcpServiceAccount::file(#path))
                    }
                    other => {
                        let s = secret(other);
                        quote!(#p::GcpServiceAccount::json(#s))
                    }
                };
                quote_spanned!(span=> .from_gcp_registry(#image, #sa))
            }
            BaseOp::Oci { image, tenancy_ocid, user_ocid, fingerprint, private_key, region } => {
                let image = one(image);
                let (tenancy, user, fingerprint, region) =
                    (owned(tenancy_ocid), owned(user_ocid), owned(fingerprint), owned(region));
                let key = secret(private_key);
                quote_spanned!(span=> .from_oci_registry(#image, #p::OciCredentials {
                    tenancy_ocid: #tenancy,
                    user_ocid: #user,
                    fingerprint: #fingerprint,
                    private_key: #key,
                    region: #region,
                }))
            }
            BaseOp::Template(name) => {
                let name = one(name);
                quote_spanned!(span=> .from_template(#name))
            }
        },
        OpKind::Run { commands, user } => {
            let cmds = list(commands);
            match user {
                None => quote_spanned!(span=> .run_cmd(#cmds)),
                Some(_) => {
                    let o = opt_str("user", user);
                    quote_spanned!(span=> .run_cmd_with(#cmds, #p::RunOptions::new() #o))
                }
            }
        }
        OpKind::Copy { sources, dest, user, mode, force_upload, resolve_symlinks, gzip } => {
            let (src, dest) = (list(sources), one(dest));
            if user.is_none()
                && mode.is_none()
                && force_upload.is_none()
                && resolve_symlinks.is_none()
                && gzip.is_none()
            {
                quote_spanned!(span=> .copy(#src, #dest))
            } else {
                let o = [
                    opt_str("user", user),
                    opt_u32("mode", *mode),
                    opt_flag("force_upload", *force_upload),
                    opt_flag("resolve_symlinks", *resolve_symlinks),
                    opt_flag("gzip", *gzip),
                ];
                quote_spanned!(span=> .copy_with(#src, #dest, #p::CopyOptions::new() #(#o)*))
            }
        }
        OpKind::Env { vars, literal } => {
            let any_expr = vars.iter().any(|(_, v)| matches!(v, Str::Expr(..)));
            let pairs = vars.iter().map(|(k, v)| {
                let v = if any_expr { owned(v) } else { one(v) };
                quote!((#k, #v))
            });
            if *literal {
                quote_spanned!(span=> .set_envs_with([#(#pairs),*], #p::EnvOptions::new().literal(true)))
            } else {
                quote_spanned!(span=> .set_envs([#(#pairs),*]))
            }
        }
        OpKind::Workdir(path) => {
            let path = one(path);
            quote_spanned!(span=> .set_workdir(#path))
        }
        OpKind::User(user) => {
            let user = one(user);
            quote_spanned!(span=> .set_user(#user))
        }
        OpKind::Pip { packages, global } => {
            let pkgs = list(packages);
            match global {
                None => quote_spanned!(span=> .pip_install(#pkgs)),
                Some(g) => quote_spanned!(span=> .pip_install_with(#pkgs, #p::PipOptions::new().global(#g))),
            }
        }
        OpKind::Npm { packages, global, dev } | OpKind::Bun { packages, global, dev } => {
            let npm = matches!(kind, OpKind::Npm { .. });
            let pkgs = list(packages);
            if !global && !dev {
                let m = format_ident!("{}", if npm { "npm_install" } else { "bun_install" }, span = span);
                quote_spanned!(span=> .#m(#pkgs))
            } else {
                let m = format_ident!("{}", if npm { "npm_install_with" } else { "bun_install_with" }, span = span);
                let o = [flag("global", *global), flag("dev", *dev)];
                quote_spanned!(span=> .#m(#pkgs, #p::JsInstallOptions::new() #(#o)*))
            }
        }
        OpKind::Apt { packages, no_install_recommends, fix_missing } => {
            let pkgs = list(packages);
            if !no_install_recommends && !fix_missing {
                quote_spanned!(span=> .apt_install(#pkgs))
            } else {
                let o = [flag("no_install_recommends", *no_install_recommends), flag("fix_missing", *fix_missing)];
                quote_spanned!(span=> .apt_install_with(#pkgs, #p::AptOptions::new() #(#o)*))
            }
        }
        OpKind::Git { url, dest, branch, depth, user } => {
            let url = one(url);
            if dest.is_none() && branch.is_none() && depth.is_none() && user.is_none() {
                quote_spanned!(span=> .git_clone(#url))
            } else {
                let o =
                    [opt_str("path", dest), opt_str("branch", branch), opt_u32("depth", *depth), opt_str("user", user)];
                quote_spanned!(span=> .git_clone_with(#url, #p::GitCloneOptions::new() #(#o)*))
            }
        }
        OpKind::Mkdir { paths, mode, user } => {
            let paths = list(paths);
            if mode.is_none() && user.is_none() {
                quote_spanned!(span=> .make_dir(#paths))
            } else {
                let o = [opt_u32("mode", *mode), opt_str("user", user)];
                quote_spanned!(span=> .make_dir_with(#paths, #p::MakeDirOptions::new() #(#o)*))
            }
        }
        OpKind::Remove { paths, recursive, force, user } => {
            let paths = list(paths);
            if !recursive && !force && user.is_none() {
                quote_spanned!(span=> .remove(#paths))
            } else {
                let o = [flag("recursive", *recursive), flag("force", *force), opt_str("user", user)];
                quote_spanned!(span=> .remove_with(#paths, #p::RemoveOptions::new() #(#o)*))
            }
        }
        OpKind::Rename { src, dest, force, user } | OpKind::Symlink { src, dest, force, user } => {
            let rename = matches!(kind, OpKind::Rename { .. });
            let (src, dest) = (one(src), one(dest));
            if !force && user.is_none() {
                let m = format_ident!("{}", if rename { "rename" } else { "make_symlink" }, span = span);
                quote_spanned!(span=> .#m(#src, #dest))
            } else {
                let m = format_ident!("{}", if rename { "rename_with" } else { "make_symlink_with" }, span = span);
                let o = [flag("force", *force), opt_str("user", user)];
                quote_spanned!(span=> .#m(#src, #dest, #p::FileOptions::new() #(#o)*))
            }
        }
        OpKind::McpServers(names) => {
            let names = list(names);
            quote_spanned!(span=> .add_mcp_server(#names))
        }
        OpKind::DevContainerPrebuild(dir) => {
            let dir = one(dir);
            quote_spanned!(span=> .beta_dev_container_prebuild(#dir))
        }
        OpKind::DevContainerStart(dir) => {
            let dir = one(dir);
            quote_spanned!(span=> .beta_set_dev_container_start(#dir))
        }
        OpKind::PatchCmd(script) => {
            let script = one(script);
            quote_spanned!(span=> .set_patch_cmd(#script))
        }
        OpKind::Start { command, ready: r } => {
            let (command, r) = (one(command), ready(r));
            quote_spanned!(span=> .set_start_cmd(#command, #r))
        }
        OpKind::Ready(r) => {
            let r = ready(r);
            quote_spanned!(span=> .set_ready_cmd(#r))
        }
    }
}

/// A value for an `impl Into<String>` parameter: the literal, or the expression.
fn one(s: &Str) -> TokenStream {
    let p = p();
    one_into(s, quote!(#p::String))
}

/// A value for an `impl Into<target>` parameter: the literal, or the expression through
/// `StrValue` (`src/holes.rs` of the facade), so that a value of the wrong type is reported at
/// the `{expr}` with what to write, instead of as a missing `From` impl with a list of six.
fn one_into(s: &Str, target: TokenStream) -> TokenStream {
    let p = p();
    match s {
        Str::Lit(l) => l.to_token_stream(),
        Str::Expr(t, span) => quote_spanned!(*span=> #p::StrValue::<#target>::into_value(#t)),
    }
}

/// A `String` (for arrays that mix literals and expressions).
fn owned(s: &Str) -> TokenStream {
    let p = p();
    match s {
        // `Into`, not `String::from`: a trait method needs its trait in scope, and the expansion
        // must compile without the prelude.
        Str::Lit(l) => quote!(#p::Into::<#p::String>::into(#l)),
        Str::Expr(..) => one(s),
    }
}

/// A value for an `impl Into<Strings>` parameter. A single `{expr}` is passed as written, so it
/// may be a `Vec`, an array or a slice of strings.
fn list(items: &[Str]) -> TokenStream {
    let p = p();
    match items {
        [] => quote!(#p::Strings::default()),
        [Str::Lit(l)] => l.to_token_stream(),
        [Str::Expr(t, span)] => quote_spanned!(*span=> #p::StringsValue::into_value(#t)),
        many if many.iter().all(|s| matches!(s, Str::Lit(_))) => {
            let lits = many.iter().map(one);
            quote!([#(#lits),*])
        }
        many => {
            let items = many.iter().map(owned);
            quote!([#(#items),*])
        }
    }
}

fn secret(s: &SecretSrc) -> TokenStream {
    let p = p();
    match s {
        SecretSrc::Env(var) => {
            let var = one(var);
            quote!(#p::Secret::from_env(#var))
        }
        SecretSrc::File(path) => {
            let path = one_into(path, quote!(#p::PathBuf));
            quote!(#p::Secret::from_file(#path))
        }
        SecretSrc::Expr(t, span) => quote_spanned!(*span=> #p::SecretValue::into_value(#t)),
    }
}

fn ready(r: &ReadyOp) -> TokenStream {
    let p = p();
    match r {
        ReadyOp::Port(port) => {
            let port = Literal::u16_suffixed(*port);
            quote!(#p::wait_for_port(#port))
        }
        ReadyOp::Url(url, None) => {
            let url = one(url);
            quote!(#p::wait_for_url(#url))
        }
        ReadyOp::Url(url, Some(status)) => {
            let (url, status) = (one(url), Literal::u16_suffixed(*status));
            quote!(#p::wait_for_url_status(#url, #status))
        }
        ReadyOp::Process(name) => {
            let name = one(name);
            quote!(#p::wait_for_process(#name))
        }
        ReadyOp::File(path) => {
            let path = one(path);
            quote!(#p::wait_for_file(#path))
        }
        ReadyOp::Timeout(ms) => {
            let ms = Literal::u64_suffixed(*ms);
            quote!(#p::wait_for_timeout(#p::Duration::from_millis(#ms)))
        }
        ReadyOp::Command(Str::Lit(cmd)) => cmd.to_token_stream(),
        ReadyOp::Command(Str::Expr(t, span)) => quote_spanned!(*span=> #p::ReadyValue::into_value(#t)),
    }
}
