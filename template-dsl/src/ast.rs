//! The grammar of the DSL (`docs/dsl.md`, also the rustdoc of `sandbox_template::template!`): one
//! type per node, each with its own `Parse`, each keeping the spans the checker reports at.
//!
//! Parsing is purely syntactic; everything that needs to know what a value means (is this option
//! known here? is this image reference valid?) is in the checker (`check/`), so that all such
//! problems are collected and reported together.

use proc_macro2::{Delimiter, Span, TokenStream, TokenTree};
use syn::ext::IdentExt;
use syn::parse::{Parse, ParseStream, Parser, Result};
use syn::{Ident, LitBool, LitInt, LitStr, Token, braced, parenthesized};

use sandbox_template_runtime::DISTROS;

use crate::diag::{Diagnostics, err, unknown_help};

/// Every statement keyword, for "did you mean".
pub const STATEMENTS: &[&str] = &[
    "context",
    "ignore",
    "embed",
    "skip_cache",
    "provider",
    "from",
    "run",
    "copy",
    "env",
    "workdir",
    "user",
    "pip",
    "npm",
    "bun",
    "apt",
    "git",
    "mkdir",
    "remove",
    "rename",
    "symlink",
    "mcp",
    "devcontainer",
    "patch",
    "start",
    "ready",
];

/// Every base kind (`from KIND ...`), for "did you mean": the distros of the runtime's table
/// ([`DISTROS`]), then the other bases.
pub const BASES: &[&str] = &BASE_KEYWORDS;

const BASE_KEYWORDS: [&str; DISTROS.len() + OTHER_BASES.len()] = base_keywords();

/// `DISTROS`' keywords followed by `OTHER_BASES` (a `const fn`: slices cannot be concatenated
/// in a `const` otherwise).
const fn base_keywords<const N: usize>() -> [&'static str; N] {
    let mut out = [""; N];
    let mut i = 0;
    while i < DISTROS.len() {
        out[i] = DISTROS[i].keyword;
        i += 1;
    }
    let mut j = 0;
    while j < OTHER_BASES.len() {
        out[i + j] = OTHER_BASES[j];
        j += 1;
    }
    out
}

/// The bases that are not distros.
const OTHER_BASES: &[&str] = &["base", "image", "registry", "aws", "gcp", "huawei", "oci", "template", "dockerfile"];

/// Every ready-check form, for "did you mean".
pub const READY_FORMS: &[&str] = &["port", "url", "process", "file", "timeout"];

/// `STR`: a string literal, or `{expr}` (a Rust value known at run time).
#[derive(Clone)]
pub enum Str {
    /// `"text"`.
    Lit(LitStr),
    /// `{expr}`: the tokens between the braces, and the span of the braces.
    Expr(TokenStream, Span),
}

impl Str {
    /// Where it is written.
    pub fn span(&self) -> Span {
        match self {
            Str::Lit(l) => l.span(),
            Str::Expr(_, s) => *s,
        }
    }

    /// The literal's value, if it is one.
    pub fn value(&self) -> Option<String> {
        match self {
            Str::Lit(l) => Some(l.value()),
            Str::Expr(..) => None,
        }
    }
}

impl Parse for Str {
    fn parse(input: ParseStream) -> Result<Self> {
        if input.peek(LitStr) {
            return Ok(Str::Lit(input.parse()?));
        }
        if input.peek(syn::token::Brace) {
            let content;
            let brace = braced!(content in input);
            let tokens: TokenStream = content.parse()?;
            if tokens.is_empty() {
                return Err(err(
                    brace.span.join(),
                    "empty `{}`",
                    "write a Rust expression between the braces, e.g. `{version}`",
                ));
            }
            return Ok(Str::Expr(tokens, brace.span.join()));
        }
        Err(err(
            input.span(),
            "expected a string",
            "write a string literal such as `\"text\"`, or `{expr}` for a value computed in Rust",
        ))
    }
}

/// `STR, STR, ...` (at least one unless `allow_empty`).
fn str_list(input: ParseStream, allow_empty: bool) -> Result<Vec<Str>> {
    let mut items = Vec::new();
    if allow_empty && !(input.peek(LitStr) || input.peek(syn::token::Brace)) {
        return Ok(items);
    }
    loop {
        items.push(input.parse()?);
        if !input.peek(Token![,]) {
            return Ok(items);
        }
        input.parse::<Token![,]>()?;
    }
}

/// `SECRET`: `env("VAR")`, `file("path")` or `{expr}` (a literal is parsed so that the checker
/// can say why it is refused).
#[derive(Clone)]
pub enum SecretValue {
    /// `env("VAR")`.
    Env(Ident, Str),
    /// `file("path")`.
    File(Ident, Str),
}

/// A value after `name =` in an option list.
#[derive(Clone)]
pub enum OptValue {
    /// A string or `{expr}`.
    Str(Str),
    /// An integer (`8000`, `0o755`).
    Int(LitInt),
    /// `true` / `false`.
    Bool(LitBool),
    /// `env("VAR")` / `file("path")`.
    Secret(SecretValue),
}

impl OptValue {
    /// Where it is written.
    pub fn span(&self) -> Span {
        match self {
            OptValue::Str(s) => s.span(),
            OptValue::Int(i) => i.span(),
            OptValue::Bool(b) => b.span,
            OptValue::Secret(SecretValue::Env(kw, _) | SecretValue::File(kw, _)) => kw.span(),
        }
    }
}

impl Parse for OptValue {
    fn parse(input: ParseStream) -> Result<Self> {
        if input.peek(LitInt) {
            return Ok(OptValue::Int(input.parse()?));
        }
        if input.peek(LitBool) {
            return Ok(OptValue::Bool(input.parse()?));
        }
        if input.peek(Ident::peek_any) && input.peek2(syn::token::Paren) {
            let kw = input.call(Ident::parse_any)?;
            let content;
            parenthesized!(content in input);
            let arg: Str = content.parse()?;
            if !content.is_empty() {
                return Err(content.error("expected `)`"));
            }
            return match kw.to_string().as_str() {
                "env" => Ok(OptValue::Secret(SecretValue::Env(kw, arg))),
                "file" => Ok(OptValue::Secret(SecretValue::File(kw, arg))),
                other => Err(err(
                    kw.span(),
                    format!("unknown value `{other}(...)`"),
                    unknown_help(other, "secret sources", &["env", "file"]),
                )),
            };
        }
        if input.peek(LitStr) || input.peek(syn::token::Brace) {
            return Ok(OptValue::Str(input.parse()?));
        }
        Err(err(
            input.span(),
            "expected an option value",
            "write a string, an integer, `true`/`false`, `env(\"VAR\")`, `file(\"path\")` or `{expr}`",
        ))
    }
}

/// `name`, `name = value` or `name KEY = value` inside an option list.
#[derive(Clone)]
pub struct Opt {
    /// The option's name.
    pub name: Ident,
    /// What a keyed option sets, e.g. `VERSION` in `arg VERSION = "3.12"` (an identifier or a
    /// string); `None` for the usual `name = value`.
    pub key: Option<EnvKey>,
    /// Its value; `None` for a bare flag (`force`).
    pub value: Option<OptValue>,
}

impl Parse for Opt {
    fn parse(input: ParseStream) -> Result<Self> {
        let name = input.call(Ident::parse_any).map_err(|e| {
            err(
                e.span(),
                "expected an option name",
                "options are written `(name = value, flag)`, e.g. `(user = \"root\")`",
            )
        })?;
        let key = if input.peek(LitStr) {
            Some(EnvKey::Lit(input.parse()?))
        } else if input.peek(Ident::peek_any) {
            Some(EnvKey::Ident(input.call(Ident::parse_any)?))
        } else {
            None
        };
        let value = if input.peek(Token![=]) && !input.peek(Token![=>]) {
            input.parse::<Token![=]>()?;
            Some(input.parse()?)
        } else {
            None
        };
        Ok(Opt { name, key, value })
    }
}

/// `(name = value, flag, ...)` after a statement.
#[derive(Clone, Default)]
pub struct Options {
    /// The options, in order.
    pub items: Vec<Opt>,
}

impl Options {
    fn parse_optional(input: ParseStream) -> Result<Self> {
        if !input.peek(syn::token::Paren) {
            return Ok(Options::default());
        }
        let content;
        parenthesized!(content in input);
        let mut items = Vec::new();
        while !content.is_empty() {
            items.push(content.parse()?);
            if content.is_empty() {
                break;
            }
            content.parse::<Token![,]>()?;
        }
        Ok(Options { items })
    }
}

/// `provider e2b;` / `provider novita;`
#[derive(Clone)]
pub struct ProviderStmt {
    /// `provider`.
    pub kw: Ident,
    /// `e2b` or `novita`.
    pub name: Ident,
}

/// `context STR;`
#[derive(Clone)]
pub struct ContextStmt {
    /// `context`.
    pub kw: Ident,
    /// The folder.
    pub dir: Str,
}

/// `ignore STR, ...;`
#[derive(Clone)]
pub struct IgnoreStmt {
    /// `ignore`.
    pub kw: Ident,
    /// `.dockerignore`-style patterns.
    pub patterns: Vec<Str>,
}

/// `from KIND [STR] [(options)];` (which kinds take which arguments is checked later).
#[derive(Clone)]
pub struct FromStmt {
    /// `from`.
    pub kw: Ident,
    /// `python`, `image`, `dockerfile`, ...
    pub kind: Ident,
    /// The version, image, template name or Dockerfile path.
    pub arg: Option<Str>,
    /// Credentials, or the build args of `from dockerfile` (`arg NAME = STR`).
    pub options: Options,
    /// Whether options were written (even empty).
    pub has_options: bool,
}

/// `run STR, ... [(user = STR)];`
#[derive(Clone)]
pub struct RunStmt {
    /// `run`.
    pub kw: Ident,
    /// Commands, joined with ` && `.
    pub commands: Vec<Str>,
    /// Options.
    pub options: Options,
}

/// `copy STR, ... => STR [(options)];`
#[derive(Clone)]
pub struct CopyStmt {
    /// `copy`.
    pub kw: Ident,
    /// Sources, relative to the context.
    pub sources: Vec<Str>,
    /// Destination in the image.
    pub dest: Str,
    /// Options.
    pub options: Options,
}

/// A variable name in `env` (or a build arg name in `arg NAME = ...`): an identifier or a string.
#[derive(Clone)]
pub enum EnvKey {
    /// `APP_ENV`.
    Ident(Ident),
    /// `"APP_ENV"`.
    Lit(LitStr),
}

impl EnvKey {
    /// The name.
    pub fn name(&self) -> String {
        match self {
            EnvKey::Ident(i) => i.unraw().to_string(),
            EnvKey::Lit(l) => l.value(),
        }
    }
    /// Where it is written.
    pub fn span(&self) -> Span {
        match self {
            EnvKey::Ident(i) => i.span(),
            EnvKey::Lit(l) => l.span(),
        }
    }
}

/// `env KEY = STR, ...;`
#[derive(Clone)]
pub struct EnvStmt {
    /// `env`.
    pub kw: Ident,
    /// Variables, in order.
    pub vars: Vec<(EnvKey, Str)>,
    /// Options (`literal`).
    pub options: Options,
}

/// `workdir STR;`, `user STR;` and `patch STR;`
#[derive(Clone)]
pub struct ValueStmt {
    /// `workdir`, `user` or `patch`.
    pub kw: Ident,
    /// The path or user.
    pub value: Str,
}

/// `pip|npm|bun|apt install [STR, ...] [(options)];`
#[derive(Clone)]
pub struct InstallStmt {
    /// `pip`, `npm`, `bun` or `apt`.
    pub kw: Ident,
    /// Packages.
    pub packages: Vec<Str>,
    /// Options.
    pub options: Options,
}

/// `git clone STR [=> STR] [(options)];`
#[derive(Clone)]
pub struct GitStmt {
    /// `git`.
    pub kw: Ident,
    /// Repository URL.
    pub url: Str,
    /// Destination folder.
    pub dest: Option<Str>,
    /// Options.
    pub options: Options,
}

/// `mkdir STR, ...;` and `remove STR, ...;`
#[derive(Clone)]
pub struct PathsStmt {
    /// `mkdir` or `remove`.
    pub kw: Ident,
    /// Paths.
    pub paths: Vec<Str>,
    /// Options.
    pub options: Options,
}

/// `rename STR => STR;` and `symlink STR => STR;`
#[derive(Clone)]
pub struct MoveStmt {
    /// `rename` or `symlink`.
    pub kw: Ident,
    /// From (for `symlink`, the link target).
    pub src: Str,
    /// To (for `symlink`, the link path).
    pub dest: Str,
    /// Options.
    pub options: Options,
}

/// `mcp server STR, ...;`
#[derive(Clone)]
pub struct McpStmt {
    /// `mcp`.
    pub kw: Ident,
    /// The MCP servers' names.
    pub names: Vec<Str>,
}

/// `devcontainer prebuild STR;` and `devcontainer start STR;`
#[derive(Clone)]
pub struct DevContainerStmt {
    /// `devcontainer`.
    pub kw: Ident,
    /// `prebuild` or `start`.
    pub action: Ident,
    /// The folder holding the dev container (`.devcontainer/`) in the image.
    pub dir: Str,
}

/// `READY`: how the platform knows the sandbox is ready.
#[derive(Clone)]
pub enum Ready {
    /// `port INT`.
    Port(LitInt),
    /// `url STR [status INT]`.
    Url(Str, Option<LitInt>),
    /// `process STR`.
    Process(Str),
    /// `file STR`.
    File(Str),
    /// `timeout 20s` / `timeout 500ms`.
    Timeout(LitInt),
    /// `STR`: any shell command (or `{expr}`: anything that converts into a `ReadyCmd`).
    Command(Str),
}

impl Parse for Ready {
    fn parse(input: ParseStream) -> Result<Self> {
        if input.peek(LitStr) || input.peek(syn::token::Brace) {
            return Ok(Ready::Command(input.parse()?));
        }
        let help = "write `port 8000`, `url \"http://localhost:8000/health\"`, `process \"nginx\"`, `file \"/tmp/ready\"`, `timeout 20s` or a shell command in a string";
        let kw = input.call(Ident::parse_any).map_err(|e| err(e.span(), "expected a ready check", help))?;
        let int = |input: ParseStream, what: &str| -> Result<LitInt> {
            input.parse::<LitInt>().map_err(|e| err(e.span(), format!("expected {what}"), help))
        };
        Ok(match kw.to_string().as_str() {
            "port" if input.peek(syn::token::Brace) => {
                // Ports are literals (checked at compile time); a computed one goes through the
                // `{expr}` ready form, which takes any `ReadyCmd`.
                let group: proc_macro2::Group = input.parse()?;
                return Err(err(
                    group.span(),
                    "`ready port` takes a number literal, not `{expr}`",
                    format!("for a port computed in Rust write `ready {{wait_for_port({})}}`", group.stream()),
                ));
            }
            "port" => Ready::Port(int(input, "a port number")?),
            "url" => {
                let url = input.parse()?;
                let status = if input.peek(Ident::peek_any) && input.fork().call(Ident::parse_any)? == "status" {
                    input.call(Ident::parse_any)?;
                    Some(int(input, "an HTTP status such as `200`")?)
                } else {
                    None
                };
                Ready::Url(url, status)
            }
            "process" => Ready::Process(input.parse()?),
            "file" => Ready::File(input.parse()?),
            "timeout" => Ready::Timeout(int(input, "a duration such as `20s` or `500ms`")?),
            other => {
                return Err(err(
                    kw.span(),
                    format!("unknown ready check `{other}`"),
                    unknown_help(other, "ready checks", READY_FORMS),
                ));
            }
        })
    }
}

/// `start STR ready READY;`
#[derive(Clone)]
pub struct StartStmt {
    /// `start`.
    pub kw: Ident,
    /// The command.
    pub command: Str,
    /// The ready check.
    pub ready: Ready,
}

/// `ready READY;`
#[derive(Clone)]
pub struct ReadyStmt {
    /// `ready`.
    pub kw: Ident,
    /// The ready check.
    pub ready: Ready,
}

/// One statement.
#[derive(Clone)]
pub enum Stmt {
    /// `context STR;`
    Context(ContextStmt),
    /// `ignore STR, ...;`
    Ignore(IgnoreStmt),
    /// `embed;`
    Embed(Ident),
    /// `skip_cache;`
    SkipCache(Ident),
    /// `provider NAME;`
    Provider(ProviderStmt),
    /// `from ...;`
    From(FromStmt),
    /// `run ...;`
    Run(RunStmt),
    /// `copy ... => ...;`
    Copy(CopyStmt),
    /// `env K = V, ...;`
    Env(EnvStmt),
    /// `workdir STR;`
    Workdir(ValueStmt),
    /// `user STR;`
    User(ValueStmt),
    /// `pip|npm|bun|apt install ...;`
    Install(InstallStmt),
    /// `git clone ...;`
    Git(GitStmt),
    /// `mkdir ...;`
    Mkdir(PathsStmt),
    /// `remove ...;`
    Remove(PathsStmt),
    /// `rename A => B;`
    Rename(MoveStmt),
    /// `symlink A => B;`
    Symlink(MoveStmt),
    /// `mcp server STR, ...;`
    Mcp(McpStmt),
    /// `devcontainer prebuild|start STR;`
    DevContainer(DevContainerStmt),
    /// `patch STR;`
    Patch(ValueStmt),
    /// `start STR ready READY;`
    Start(StartStmt),
    /// `ready READY;`
    Ready(ReadyStmt),
}

impl Stmt {
    /// The statement's keyword.
    pub fn kw(&self) -> &Ident {
        match self {
            Stmt::Context(s) => &s.kw,
            Stmt::Ignore(s) => &s.kw,
            Stmt::Embed(kw) | Stmt::SkipCache(kw) => kw,
            Stmt::Provider(s) => &s.kw,
            Stmt::From(s) => &s.kw,
            Stmt::Run(s) => &s.kw,
            Stmt::Copy(s) => &s.kw,
            Stmt::Env(s) => &s.kw,
            Stmt::Workdir(s) | Stmt::User(s) | Stmt::Patch(s) => &s.kw,
            Stmt::Install(s) => &s.kw,
            Stmt::Git(s) => &s.kw,
            Stmt::Mkdir(s) | Stmt::Remove(s) => &s.kw,
            Stmt::Rename(s) | Stmt::Symlink(s) => &s.kw,
            Stmt::Mcp(s) => &s.kw,
            Stmt::DevContainer(s) => &s.kw,
            Stmt::Start(s) => &s.kw,
            Stmt::Ready(s) => &s.kw,
        }
    }
}

fn arrow(input: ParseStream, what: &str) -> Result<()> {
    if input.peek(Token![=>]) {
        input.parse::<Token![=>]>()?;
        Ok(())
    } else {
        Err(err(input.span(), "expected `=>`", format!("write `{what}`")))
    }
}

fn word(input: ParseStream, expected: &str, help: &str) -> Result<Ident> {
    let fork = input.fork();
    match fork.call(Ident::parse_any) {
        Ok(i) if i == expected => input.call(Ident::parse_any),
        _ => Err(err(input.span(), format!("expected `{expected}`"), help)),
    }
}

impl Parse for Stmt {
    fn parse(input: ParseStream) -> Result<Self> {
        let stmt = Stmt::parse_unterminated(input)?;
        Stmt::end(input, stmt, input.span())
    }
}

impl Stmt {
    /// The `;` after a statement. `last` is the statement's last token: a missing `;` is reported
    /// there (where it should be written), not at whatever follows.
    fn end(input: ParseStream, stmt: Stmt, last: Span) -> Result<Self> {
        if !input.peek(Token![;]) {
            if input.peek(syn::token::Paren) {
                return Err(err(input.span(), format!("`{}` takes no options", stmt.kw()), "remove the `(...)`"));
            }
            return Err(err(last, "expected `;`", "end the statement with `;`"));
        }
        input.parse::<Token![;]>()?;
        Ok(stmt)
    }

    /// A statement without its `;`.
    fn parse_unterminated(input: ParseStream) -> Result<Self> {
        let kw = input.call(Ident::parse_any).map_err(|e| {
            err(e.span(), "expected a statement", format!("statements start with a keyword: {}", STATEMENTS.join(", ")))
        })?;
        let stmt = match kw.to_string().as_str() {
            "context" => Stmt::Context(ContextStmt { kw, dir: input.parse()? }),
            "ignore" => Stmt::Ignore(IgnoreStmt { kw, patterns: str_list(input, false)? }),
            "embed" => Stmt::Embed(kw),
            "skip_cache" => Stmt::SkipCache(kw),
            "provider" => {
                let name = input.call(Ident::parse_any).map_err(|e| {
                    err(e.span(), "expected a provider after `provider`", "write `provider e2b;` or `provider novita;`")
                })?;
                Stmt::Provider(ProviderStmt { kw, name })
            }
            "from" => {
                let kind = input.call(Ident::parse_any).map_err(|e| {
                    err(
                        e.span(),
                        "expected a base after `from`",
                        "write e.g. `from python \"3.12\";`, `from image \"ubuntu:24.04\";` or `from base;`",
                    )
                })?;
                let arg = if input.peek(LitStr) || input.peek(syn::token::Brace) { Some(input.parse()?) } else { None };
                let has_options = input.peek(syn::token::Paren);
                let options = Options::parse_optional(input)?;
                Stmt::From(FromStmt { kw, kind, arg, options, has_options })
            }
            "run" => {
                Stmt::Run(RunStmt { kw, commands: str_list(input, false)?, options: Options::parse_optional(input)? })
            }
            "copy" => {
                let sources = str_list(input, false)?;
                arrow(input, "copy \"source\" => \"/destination\";")?;
                let dest = input.parse()?;
                Stmt::Copy(CopyStmt { kw, sources, dest, options: Options::parse_optional(input)? })
            }
            "env" => {
                let mut vars = Vec::new();
                loop {
                    let key =
                        if input.peek(LitStr) {
                            EnvKey::Lit(input.parse()?)
                        } else {
                            EnvKey::Ident(input.call(Ident::parse_any).map_err(|e| {
                                err(e.span(), "expected a variable name", "write `env NAME = \"value\";`")
                            })?)
                        };
                    if let EnvKey::Ident(first) = &key
                        && input.peek(Token![-])
                    {
                        return Err(dashed_env_name(input, first));
                    }
                    if !input.peek(Token![=]) || input.peek(Token![=>]) {
                        return Err(err(input.span(), "expected `=`", "write `env NAME = \"value\";`"));
                    }
                    input.parse::<Token![=]>()?;
                    vars.push((key, input.parse()?));
                    if !input.peek(Token![,]) {
                        break;
                    }
                    input.parse::<Token![,]>()?;
                }
                Stmt::Env(EnvStmt { kw, vars, options: Options::parse_optional(input)? })
            }
            "workdir" => Stmt::Workdir(ValueStmt { kw, value: input.parse()? }),
            "user" => Stmt::User(ValueStmt { kw, value: input.parse()? }),
            "pip" | "npm" | "bun" | "apt" => {
                let help = format!("write `{kw} install \"package\", ...;`");
                word(input, "install", &help)?;
                let packages = str_list(input, true)?;
                Stmt::Install(InstallStmt { kw, packages, options: Options::parse_optional(input)? })
            }
            "git" => {
                word(input, "clone", "write `git clone \"https://...\" [=> \"/path\"];`")?;
                let url = input.parse()?;
                let dest = if input.peek(Token![=>]) {
                    input.parse::<Token![=>]>()?;
                    Some(input.parse()?)
                } else {
                    None
                };
                Stmt::Git(GitStmt { kw, url, dest, options: Options::parse_optional(input)? })
            }
            "mkdir" | "remove" => {
                let s = PathsStmt { paths: str_list(input, false)?, options: Options::parse_optional(input)?, kw };
                if s.kw == "mkdir" { Stmt::Mkdir(s) } else { Stmt::Remove(s) }
            }
            "rename" | "symlink" => {
                let src = input.parse()?;
                arrow(input, &format!("{kw} \"from\" => \"to\";"))?;
                let s = MoveStmt { src, dest: input.parse()?, options: Options::parse_optional(input)?, kw };
                if s.kw == "rename" { Stmt::Rename(s) } else { Stmt::Symlink(s) }
            }
            "mcp" => {
                word(input, "server", "write `mcp server \"exa\", \"brave\";`")?;
                Stmt::Mcp(McpStmt { kw, names: str_list(input, false)? })
            }
            "devcontainer" => {
                let help = "write `devcontainer prebuild \"/folder\";` or `devcontainer start \"/folder\";`";
                let fork = input.fork();
                let action = match fork.call(Ident::parse_any) {
                    Ok(a) if a == "prebuild" || a == "start" => input.call(Ident::parse_any)?,
                    _ => return Err(err(input.span(), "expected `prebuild` or `start`", help)),
                };
                Stmt::DevContainer(DevContainerStmt { kw, action, dir: input.parse()? })
            }
            "patch" => Stmt::Patch(ValueStmt { kw, value: input.parse()? }),
            "start" => {
                let command = input.parse()?;
                let help = "a start command needs a ready check: `start \"...\" ready port 8000;`";
                if input.is_empty() || input.peek(Token![;]) {
                    return Err(err(kw.span(), "`start` without `ready`", help));
                }
                word(input, "ready", help)?;
                Stmt::Start(StartStmt { kw, command, ready: input.parse()? })
            }
            "ready" => Stmt::Ready(ReadyStmt { kw, ready: input.parse()? }),
            other => {
                return Err(err(
                    kw.span(),
                    format!("unknown statement `{other}`"),
                    unknown_help(other, "statements", STATEMENTS),
                ));
            }
        };
        Ok(stmt)
    }
}

/// `env APP-ENV = ...`: Rust reads `APP - ENV`, so say that `-` is the problem and what the name
/// would be with `_` (`APP_ENV`).
fn dashed_env_name(input: ParseStream, first: &Ident) -> syn::Error {
    let dash_span = input.span();
    let mut name = first.to_string();
    while input.peek(Token![-]) {
        let Ok(_) = input.parse::<Token![-]>() else { break };
        name.push('_');
        if input.peek(Ident::peek_any) || input.peek(LitInt) {
            let Ok(tt) = input.parse::<TokenTree>() else { break };
            name.push_str(&tt.to_string());
        }
    }
    err(
        dash_span,
        "`-` is not allowed in an environment variable name",
        format!("names are letters, digits and `_`: write `{name}`"),
    )
}

/// The span of a token's end: a group's closing delimiter, else the token.
fn last_span(tt: &TokenTree) -> Span {
    match tt {
        TokenTree::Group(g) if g.delimiter() != Delimiter::None => g.span_close(),
        t => t.span(),
    }
}

/// How many token trees `input` has left.
fn remaining(input: ParseStream) -> usize {
    let mut cursor = input.cursor();
    let mut n = 0;
    while let Some((_, next)) = cursor.token_tree() {
        n += 1;
        cursor = next;
    }
    n
}

/// The body of a template: its statements, in order. Statements that fail to parse are reported
/// to the [`Diagnostics`] and skipped, so that one typo does not hide the other problems.
#[derive(Clone, Default)]
pub struct Body {
    /// The statements that parsed.
    pub stmts: Vec<Stmt>,
    /// Whether some statement failed to parse (the checker then stays quiet about a missing base).
    pub had_parse_errors: bool,
}

impl Body {
    /// Parses `tokens`, statement by statement (split at top-level `;`).
    pub fn parse(tokens: TokenStream, cx: &mut Diagnostics) -> Body {
        let mut body = Body::default();
        let mut chunk: Vec<TokenTree> = Vec::new();
        let flush = |chunk: &mut Vec<TokenTree>, body: &mut Body, cx: &mut Diagnostics| {
            let taken = std::mem::take(chunk);
            let parser = |input: ParseStream| {
                let stmt = Stmt::parse_unterminated(input)?;
                // The last token the statement took: the one before what is left.
                let used = taken.len() - remaining(input);
                let last = used.checked_sub(1).map_or_else(|| input.span(), |i| last_span(&taken[i]));
                Stmt::end(input, stmt, last)
            };
            match parser.parse2(taken.iter().cloned().collect()) {
                Ok(stmt) => body.stmts.push(stmt),
                Err(e) => {
                    body.had_parse_errors = true;
                    cx.syn(e);
                }
            }
        };
        for tt in tokens {
            let end = matches!(&tt, TokenTree::Punct(p) if p.as_char() == ';');
            chunk.push(tt);
            if end {
                flush(&mut chunk, &mut body, cx);
            }
        }
        if let Some(last) = chunk.last() {
            // The last statement has no `;`: say so at its last token rather than "end of input".
            let span = last_span(last);
            let mut probe = chunk.clone();
            let mut semi = proc_macro2::Punct::new(';', proc_macro2::Spacing::Alone);
            semi.set_span(span);
            probe.push(TokenTree::Punct(semi));
            let parsed = Stmt::parse.parse2(probe.into_iter().collect());
            body.had_parse_errors = true;
            match parsed {
                Ok(_) => {
                    cx.push(crate::diag::Diagnostic::new(span, "expected `;`").help("end every statement with `;`"))
                }
                Err(e) => cx.syn(e),
            }
        }
        body
    }
}

/// One `pub static NAME = { ... };` of the item form.
#[derive(Clone)]
pub struct ItemDef {
    /// `#[...]` attributes and `///` docs, as written.
    pub attrs: TokenStream,
    /// `pub`, `pub(crate)`, ... as written.
    pub vis: TokenStream,
    /// `static`.
    pub static_token: Token![static],
    /// The constant's name.
    pub name: Ident,
    /// The template body, between the braces.
    pub body: TokenStream,
}

impl Parse for ItemDef {
    fn parse(input: ParseStream) -> Result<Self> {
        let mut attrs = TokenStream::new();
        while input.peek(Token![#]) {
            let pound: Token![#] = input.parse()?;
            let group: proc_macro2::Group = input.parse()?;
            if group.delimiter() != Delimiter::Bracket {
                return Err(err(
                    group.span(),
                    "expected `[` after `#`",
                    "write an attribute such as `#[doc = \"...\"]`",
                ));
            }
            quote::ToTokens::to_tokens(&pound, &mut attrs);
            attrs.extend([TokenTree::Group(group)]);
        }
        let mut vis = TokenStream::new();
        if input.peek(Token![pub]) {
            let p: Token![pub] = input.parse()?;
            quote::ToTokens::to_tokens(&p, &mut vis);
            if input.peek(syn::token::Paren) {
                let g: proc_macro2::Group = input.parse()?;
                vis.extend([TokenTree::Group(g)]);
            }
        }
        let static_token: Token![static] = input
            .parse()
            .map_err(|e| err(e.span(), "expected `static`", "write `pub static NAME = { from ...; ... };`"))?;
        let name: Ident = input.parse()?;
        if input.peek(Token![:]) {
            return Err(err(
                input.span(),
                "a `template!` static has no type annotation",
                "write `static NAME = { ... };`: its type is always `LazyLock<Template>`",
            ));
        }
        input.parse::<Token![=]>().map_err(|e| err(e.span(), "expected `=`", "write `static NAME = { ... };`"))?;
        let content;
        braced!(content in input);
        let body: TokenStream = content.parse()?;
        input.parse::<Token![;]>().map_err(|e| err(e.span(), "expected `;`", "end the item with `};`"))?;
        Ok(ItemDef { attrs, vis, static_token, name, body })
    }
}

/// Whether macro input is the item form (`pub static NAME = {...};`) rather than a template body.
pub fn is_item_form(tokens: &TokenStream) -> bool {
    match tokens.clone().into_iter().next() {
        Some(TokenTree::Punct(p)) => p.as_char() == '#',
        Some(TokenTree::Ident(i)) => i == "pub" || i == "static",
        _ => false,
    }
}

/// Parses the item form: several definitions.
pub fn parse_items(input: ParseStream) -> Result<Vec<ItemDef>> {
    let mut items = Vec::new();
    while !input.is_empty() {
        items.push(input.parse()?);
    }
    Ok(items)
}
