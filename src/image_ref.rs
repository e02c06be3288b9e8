//! Parsing, normalising and re-tagging container image references.
//!
//! hardport rewrites `FROM` lines and Helm values in place, so a reference has to come back
//! out exactly as it went in apart from the parts we mean to change. That is why
//! [`ImageRef`] keeps every part as written and its [`fmt::Display`] only glues the parts
//! back together, and why Dockerfile variables (`$VAR`, `${VAR:-default}`) are carried
//! through as opaque text instead of being rejected or expanded.
//!
//! The grammar is the distribution reference grammar
//! (`[registry[:port]/]path[:tag][@digest]`) with two deliberate relaxations, both because
//! hardport must not refuse a file that `docker build` would accept after variable
//! expansion, and because refusing costs the user more than a missed match:
//!
//! * uppercase letters are accepted in paths (Docker rejects them, but a Dockerfile may
//!   still be half-written, and [`ImageRef::canonical_repository`] keeps them as written, so
//!   such a path just never matches a catalog entry);
//! * characters are checked per part against the allowed set, but the finer rules (a path
//!   component must start with a letter or digit, tags are at most 128 characters, a digest
//!   has at least 32 hex digits) are not enforced.

use std::fmt;
use std::iter::Peekable;
use std::str::Chars;

/// Registry hosts that all mean Docker Hub; any of them (in any letter case) normalises to
/// [`DOCKER_HUB`], so that a catalog entry written one way matches references written another.
/// `registry.docker.com` is what Rails' generated Dockerfile writes
/// (`FROM registry.docker.com/library/ruby:$RUBY_VERSION-slim`).
const DOCKER_HUB_ALIASES: &[&str] = &[
    "docker.io",
    "index.docker.io",
    "registry-1.docker.io",
    "registry.hub.docker.com",
    "registry.docker.com",
];

/// The registry name canonical Docker Hub repositories are spelled with.
const DOCKER_HUB: &str = "docker.io";

/// The namespace Docker Hub puts single-component ("official") images in: `nginx` is
/// really `library/nginx`.
const OFFICIAL_NAMESPACE: &str = "library";

/// The tag a reference without one means, and the tag a replacement gets when nothing
/// version-like is left after dropping distro words.
const DEFAULT_TAG: &str = "latest";

/// Named release lines that are as good as a version number at the head of a tag; hardened
/// images publish these lines under the same names.
const NAMED_LINES: &[&str] = &["latest", "stable", "mainline", "lts"];

/// Why a reference (or a catalog repository) was rejected. Every variant except
/// [`ImageRefError::Empty`] carries the whole offending text so the message can be shown to
/// the user without more context.
#[derive(Debug, thiserror::Error, PartialEq, Eq)]
pub enum ImageRefError {
    /// Nothing to parse.
    #[error("image reference is empty")]
    Empty,
    /// References never contain whitespace; seeing some means the caller split a line wrongly.
    #[error("image reference {text:?} contains whitespace")]
    Whitespace { text: String },
    /// A `${` without its matching `}`.
    #[error("image reference {text:?} has an unterminated variable {variable:?} (missing `}}`)")]
    UnterminatedVariable { text: String, variable: String },
    /// A `${…}` that does not start with a variable name, such as `${}` or `${1}`.
    #[error("image reference {text:?} has variable {variable:?}, which does not start with a name")]
    InvalidVariable { text: String, variable: String },
    /// A leading, trailing or doubled `/`, or nothing before `:` / `@`.
    #[error("image reference {text:?} has an empty path component")]
    EmptyComponent { text: String },
    /// A `:` with nothing after it.
    #[error("image reference {text:?} has an empty tag after `:`")]
    EmptyTag { text: String },
    /// An `@` with nothing after it.
    #[error("image reference {text:?} has an empty digest after `@`")]
    EmptyDigest { text: String },
    /// A digest that is not `algorithm:hex`.
    #[error(
        "image reference {text:?} has digest {digest:?}, expected `algorithm:hex` such as `sha256:…`"
    )]
    InvalidDigest { text: String, digest: String },
    /// A character outside the set allowed in that part of a reference.
    #[error(
        "image reference {text:?} has character {ch:?}, which is not allowed in {part} {value:?}"
    )]
    InvalidCharacter {
        text: String,
        part: &'static str,
        value: String,
        ch: char,
    },
    /// A catalog repository must name a repository, not one image in it.
    #[error("repository {text:?} must not have a tag or digest")]
    TagOrDigestInRepository { text: String },
    /// A catalog repository must be knowable without expanding variables.
    #[error("repository {text:?} contains a variable, so it cannot be normalised")]
    VariableInRepository { text: String },
}

/// A parsed `[registry[:port]/]path[:tag][@digest]` reference, keeping each part as written.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ImageRef {
    /// `host[:port]` as written; `None` means Docker Hub is implied.
    pub registry: Option<String>,
    /// Repository path as written: `nginx`, `library/nginx`, `bitnami/postgresql`.
    pub path: String,
    /// The tag as written, without the `:`.
    pub tag: Option<String>,
    /// `sha256:…` as written, without the `@`.
    pub digest: Option<String>,
}

impl ImageRef {
    /// Parses a reference, treating variables as opaque text.
    ///
    /// The first `/`-separated component is the registry when more components follow and it
    /// contains `.` or `:`, is `localhost` (any case), or contains a variable. The last rule
    /// is a decision, not grammar: `${REGISTRY}/nginx` could be a registry or a Docker Hub
    /// namespace, and either way the repository is not knowable statically
    /// ([`ImageRef::canonical_repository`] returns `None`), so calling it the registry is the
    /// reading that matches how such Dockerfiles are written in practice.
    pub fn parse(text: &str) -> Result<Self, ImageRefError> {
        check_text(text)?;
        let tokens = tokenize(text);
        check_variables(&tokens, text)?;
        let (name, digest) = split_digest(&tokens);
        let parts = split_name(name);
        Ok(ImageRef {
            registry: parts
                .registry
                .map(|registry| checked_registry(registry, text))
                .transpose()?,
            path: checked_path(&parts.path, text)?,
            tag: parts.tag.map(|tag| checked_tag(tag, text)).transpose()?,
            digest: digest
                .map(|digest| checked_digest(digest, text))
                .transpose()?,
        })
    }

    /// Docker Hub forms normalised: "nginx", "library/nginx", "docker.io/library/nginx",
    /// "index.docker.io/library/nginx", "registry-1.docker.io/library/nginx" all give
    /// "docker.io/library/nginx"; "bitnami/redis" gives "docker.io/bitnami/redis";
    /// "quay.io/argoproj/argocd" stays. None when the registry or path contains a variable
    /// (then the repository is not knowable statically).
    ///
    /// The registry is lowercased because host names are case-insensitive; the path is kept
    /// as written because repository names are case-sensitive and guessing would rewrite an
    /// image the user did not name.
    pub fn canonical_repository(&self) -> Option<String> {
        if self.registry.as_deref().is_some_and(has_variable) || has_variable(&self.path) {
            return None;
        }
        match self.registry.as_deref() {
            Some(registry) if !is_docker_hub(registry) => {
                Some(format!("{}/{}", registry.to_ascii_lowercase(), self.path))
            }
            _ => Some(docker_hub_repository(&self.path)),
        }
    }

    /// The name as written, without tag or digest (`quay.io/argoproj/argocd`, `redis`): what
    /// kustomize's `images:` entries match, as text.
    pub fn name_as_written(&self) -> String {
        match &self.registry {
            Some(registry) => format!("{registry}/{}", self.path),
            None => self.path.clone(),
        }
    }

    /// true when any part contains `$` (a build-arg / env reference).
    ///
    /// A bare `$` that starts no variable is rejected by [`ImageRef::parse`], so a `$` in a
    /// parsed reference always means a variable.
    pub fn has_variables(&self) -> bool {
        [
            self.registry.as_deref(),
            Some(self.path.as_str()),
            self.tag.as_deref(),
            self.digest.as_deref(),
        ]
        .into_iter()
        .flatten()
        .any(has_variable)
    }
}

/// Prints exactly the parts as written, so `parse(s).to_string() == s` for every valid `s`
/// and a rewrite touches nothing but the part it replaces.
impl fmt::Display for ImageRef {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        if let Some(registry) = &self.registry {
            write!(f, "{registry}/")?;
        }
        f.write_str(&self.path)?;
        if let Some(tag) = &self.tag {
            write!(f, ":{tag}")?;
        }
        if let Some(digest) = &self.digest {
            write!(f, "@{digest}")?;
        }
        Ok(())
    }
}

/// Normalise a catalog `match:` value the same way ("node" -> "docker.io/library/node"); a
/// value with a tag/digest is an error.
///
/// Catalog entries name repositories, so a tag there is almost certainly a mistake that
/// would silently make the entry match nothing; a variable can never match anything.
pub fn normalize_repository(text: &str) -> Result<String, ImageRefError> {
    let image = ImageRef::parse(text)?;
    if image.tag.is_some() || image.digest.is_some() {
        return Err(ImageRefError::TagOrDigestInRepository {
            text: text.to_owned(),
        });
    }
    image
        .canonical_repository()
        .ok_or_else(|| ImageRefError::VariableInRepository {
            text: text.to_owned(),
        })
}

/// Whether a piece of a parsed reference contains a variable.
fn has_variable(part: &str) -> bool {
    part.contains('$')
}

/// Whether a registry as written is one of Docker Hub's names.
fn is_docker_hub(registry: &str) -> bool {
    DOCKER_HUB_ALIASES
        .iter()
        .any(|alias| alias.eq_ignore_ascii_case(registry))
}

/// Spells a Docker Hub path in full, adding the implied `library/` namespace for official
/// images so that `nginx` and `library/nginx` compare equal.
fn docker_hub_repository(path: &str) -> String {
    if path.contains('/') {
        format!("{DOCKER_HUB}/{path}")
    } else {
        format!("{DOCKER_HUB}/{OFFICIAL_NAMESPACE}/{path}")
    }
}

// ---------------------------------------------------------------------------------------
// Tokens: variables as single units, so separators inside them are never seen.
// ---------------------------------------------------------------------------------------

/// One lexical unit of a reference. A variable is a single token so that the `/`, `:`,
/// `@` and `-` inside `${VAR:-a/b:c}` can never be mistaken for separators.
#[derive(Debug, Clone, PartialEq, Eq)]
enum Token {
    /// A character outside any variable (a lone `$` that starts no variable included).
    Char(char),
    /// `$NAME` or a closed `${…}`, as written.
    Variable(String),
    /// A `${…` that runs to the end of the text. Kept as a token rather than failing in the
    /// tokenizer so that [`replacement_tag`], which cannot fail, still gets its words.
    Unterminated(String),
}

impl Token {
    /// Whether this is the given character outside any variable.
    fn is_char(&self, wanted: char) -> bool {
        matches!(self, Token::Char(c) if *c == wanted)
    }

    /// Whether this is a variable (terminated or not).
    fn is_variable(&self) -> bool {
        matches!(self, Token::Variable(_) | Token::Unterminated(_))
    }

    /// Appends the token's text as written.
    fn push_onto(&self, out: &mut String) {
        match self {
            Token::Char(c) => out.push(*c),
            Token::Variable(text) | Token::Unterminated(text) => out.push_str(text),
        }
    }
}

/// The text of a run of tokens, as written.
fn text_of(tokens: &[Token]) -> String {
    let mut out = String::new();
    for token in tokens {
        token.push_onto(&mut out);
    }
    out
}

/// Splits text into characters and whole variables.
fn tokenize(text: &str) -> Vec<Token> {
    let mut chars = text.chars().peekable();
    let mut tokens = Vec::new();
    while let Some(c) = chars.next() {
        tokens.push(if c == '$' {
            scan_variable(&mut chars)
        } else {
            Token::Char(c)
        });
    }
    tokens
}

/// Reads the rest of a variable after its `$`. A `$` followed by neither `{` nor a name is
/// literal, as in Dockerfiles; no part of a reference allows it, so it is rejected later
/// with a message naming the character.
fn scan_variable(chars: &mut Peekable<Chars<'_>>) -> Token {
    match chars.peek() {
        Some('{') => scan_braced(chars),
        Some(&c) if is_name_start(c) => scan_bare(chars),
        _ => Token::Char('$'),
    }
}

/// Reads `NAME` after `$`.
fn scan_bare(chars: &mut Peekable<Chars<'_>>) -> Token {
    let mut text = String::from("$");
    while let Some(c) = chars.next_if(|c| is_name_char(*c)) {
        text.push(c);
    }
    Token::Variable(text)
}

/// Reads `{…}` after `$`, counting nested braces so `${A:-${B}}` is one variable.
fn scan_braced(chars: &mut Peekable<Chars<'_>>) -> Token {
    let mut text = String::from("$");
    let mut depth = 0_usize;
    for c in chars.by_ref() {
        text.push(c);
        match c {
            '{' => depth = depth.saturating_add(1),
            '}' => {
                depth = depth.saturating_sub(1);
                if depth == 0 {
                    return Token::Variable(text);
                }
            }
            _ => {}
        }
    }
    Token::Unterminated(text)
}

/// First character of a shell / Dockerfile variable name.
fn is_name_start(c: char) -> bool {
    c.is_ascii_alphabetic() || c == '_'
}

/// Later characters of a shell / Dockerfile variable name.
fn is_name_char(c: char) -> bool {
    c.is_ascii_alphanumeric() || c == '_'
}

// ---------------------------------------------------------------------------------------
// Parsing.
// ---------------------------------------------------------------------------------------

/// The name part of a reference (before `@`) split into its pieces, still as tokens.
struct NameParts<'t> {
    registry: Option<&'t [Token]>,
    /// Path components, the last one already without its tag.
    path: Vec<&'t [Token]>,
    tag: Option<&'t [Token]>,
}

/// Rejects text that cannot be a reference before looking at its structure.
fn check_text(text: &str) -> Result<(), ImageRefError> {
    if text.is_empty() {
        return Err(ImageRefError::Empty);
    }
    if text.chars().any(char::is_whitespace) {
        return Err(ImageRefError::Whitespace {
            text: text.to_owned(),
        });
    }
    Ok(())
}

/// Rejects unterminated `${` and `${…}` without a leading name.
fn check_variables(tokens: &[Token], text: &str) -> Result<(), ImageRefError> {
    tokens.iter().try_for_each(|token| match token {
        Token::Unterminated(variable) => Err(ImageRefError::UnterminatedVariable {
            text: text.to_owned(),
            variable: variable.clone(),
        }),
        Token::Variable(variable) if !is_valid_variable(variable) => {
            Err(ImageRefError::InvalidVariable {
                text: text.to_owned(),
                variable: variable.clone(),
            })
        }
        _ => Ok(()),
    })
}

/// Whether a closed variable starts with a name. Bare `$NAME` variables always do, by how
/// they are scanned.
fn is_valid_variable(variable: &str) -> bool {
    variable
        .strip_prefix("${")
        .is_none_or(|body| body.chars().next().is_some_and(is_name_start))
}

/// Splits off the digest at the first `@` outside variables.
fn split_digest(tokens: &[Token]) -> (&[Token], Option<&[Token]>) {
    let mut parts = tokens.splitn(2, |token| token.is_char('@'));
    let name = parts.next().unwrap_or_default();
    (name, parts.next())
}

/// Splits the name into registry, path components and tag.
fn split_name(name: &[Token]) -> NameParts<'_> {
    let components: Vec<&[Token]> = name.split(|token| token.is_char('/')).collect();
    let (registry, rest) = split_registry(&components);
    let mut path = rest.to_vec();
    let tag = match path.pop() {
        Some(last) => {
            let (repository, tag) = split_tag(last);
            path.push(repository);
            tag
        }
        None => None,
    };
    NameParts {
        registry,
        path,
        tag,
    }
}

/// Takes the first component as the registry when it looks like one (see
/// [`ImageRef::parse`]) and something follows it.
fn split_registry<'c, 't>(
    components: &'c [&'t [Token]],
) -> (Option<&'t [Token]>, &'c [&'t [Token]]) {
    match components.split_first() {
        Some((first, rest)) if !rest.is_empty() && is_registry(first) => (Some(first), rest),
        _ => (None, components),
    }
}

/// Whether a first path component names a registry rather than a Docker Hub namespace.
fn is_registry(component: &[Token]) -> bool {
    component
        .iter()
        .any(|token| token.is_variable() || token.is_char('.') || token.is_char(':'))
        || text_of(component).eq_ignore_ascii_case("localhost")
}

/// Splits the tag off the last path component at its last `:` outside variables.
fn split_tag(component: &[Token]) -> (&[Token], Option<&[Token]>) {
    let mut parts = component.rsplitn(2, |token| token.is_char(':'));
    let after = parts.next().unwrap_or_default();
    match parts.next() {
        Some(before) => (before, Some(after)),
        None => (after, None),
    }
}

/// Validates the registry's characters and returns it as written.
fn checked_registry(tokens: &[Token], text: &str) -> Result<String, ImageRefError> {
    check_chars(tokens, is_registry_char, "registry", text)?;
    Ok(text_of(tokens))
}

/// Validates every path component and returns the path as written.
fn checked_path(components: &[&[Token]], text: &str) -> Result<String, ImageRefError> {
    let checked = components
        .iter()
        .map(|component| checked_component(component, text))
        .collect::<Result<Vec<_>, _>>()?;
    Ok(checked.join("/"))
}

/// Validates one path component (non-empty, allowed characters).
fn checked_component(tokens: &[Token], text: &str) -> Result<String, ImageRefError> {
    if tokens.is_empty() {
        return Err(ImageRefError::EmptyComponent {
            text: text.to_owned(),
        });
    }
    check_chars(tokens, is_repository_char, "path component", text)?;
    Ok(text_of(tokens))
}

/// Validates a tag (non-empty, allowed characters).
fn checked_tag(tokens: &[Token], text: &str) -> Result<String, ImageRefError> {
    if tokens.is_empty() {
        return Err(ImageRefError::EmptyTag {
            text: text.to_owned(),
        });
    }
    check_chars(tokens, is_repository_char, "tag", text)?;
    Ok(text_of(tokens))
}

/// Validates a digest. A static digest must be `algorithm:hex`; one containing a variable
/// can only be checked for its characters, since the variable may expand to any part.
fn checked_digest(tokens: &[Token], text: &str) -> Result<String, ImageRefError> {
    if tokens.is_empty() {
        return Err(ImageRefError::EmptyDigest {
            text: text.to_owned(),
        });
    }
    let digest = text_of(tokens);
    if tokens.iter().any(Token::is_variable) {
        check_chars(tokens, is_digest_char, "digest", text)?;
    } else if !is_digest_shape(&digest) {
        return Err(ImageRefError::InvalidDigest {
            text: text.to_owned(),
            digest,
        });
    }
    Ok(digest)
}

/// Fails on the first character outside variables that `allowed` rejects.
fn check_chars(
    tokens: &[Token],
    allowed: fn(char) -> bool,
    part: &'static str,
    text: &str,
) -> Result<(), ImageRefError> {
    let bad = tokens.iter().find_map(|token| match token {
        Token::Char(c) if !allowed(*c) => Some(*c),
        _ => None,
    });
    match bad {
        Some(ch) => Err(ImageRefError::InvalidCharacter {
            text: text.to_owned(),
            part,
            value: text_of(tokens),
            ch,
        }),
        None => Ok(()),
    }
}

/// Host names, IPv4/IPv6 literals and a port. `_` is allowed although DNS forbids it,
/// because a first component with a variable (`my_ns${X}`) is read as a registry.
fn is_registry_char(c: char) -> bool {
    c.is_ascii_alphanumeric() || matches!(c, '.' | '-' | '_' | ':' | '[' | ']')
}

/// Path components and tags share one character set (uppercase accepted, see module docs).
fn is_repository_char(c: char) -> bool {
    c.is_ascii_alphanumeric() || matches!(c, '.' | '-' | '_')
}

/// Characters that may appear around a variable in a digest.
fn is_digest_char(c: char) -> bool {
    c.is_ascii_alphanumeric() || matches!(c, '+' | '.' | '_' | '-' | ':' | '=')
}

/// `algorithm:hex`, where the algorithm is letter-led alphanumeric components joined by
/// `+ . _ -` (as in the distribution grammar) and hex is at least one hex digit.
fn is_digest_shape(digest: &str) -> bool {
    digest.split_once(':').is_some_and(|(algorithm, hex)| {
        is_digest_algorithm(algorithm)
            && !hex.is_empty()
            && hex.chars().all(|c| c.is_ascii_hexdigit())
    })
}

/// `sha256`, `sha512`, `multihash+base58`, …
fn is_digest_algorithm(algorithm: &str) -> bool {
    algorithm.split(['+', '.', '_', '-']).all(|component| {
        component
            .chars()
            .next()
            .is_some_and(|c| c.is_ascii_alphabetic())
            && component.chars().all(|c| c.is_ascii_alphanumeric())
    })
}

// ---------------------------------------------------------------------------------------
// Tag policy.
// ---------------------------------------------------------------------------------------

/// The tag a replacement image gets, per hardport's tag policy.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ReplacementTag {
    /// The new tag.
    pub tag: String,
    /// Distro/size words dropped, in order, one entry per `-`-separated word, e.g.
    /// `["slim", "bookworm"]` or `["debian", "12", "r9"]`.
    pub dropped: Vec<String>,
    /// Suffix words not known as distro/size words, kept in the tag (the caller warns about
    /// them).
    pub kept_variant: Vec<String>,
}

/// How a known distro word may be followed by further words that belong to it.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Follower {
    /// Nothing belongs to the word.
    Nothing,
    /// One release number: `debian-12`, `ubuntu-22.04`.
    Version,
    /// Any number of Windows build words: `ltsc2022`, `1809`, `10.0.17763.5329`.
    WindowsBuild,
    /// `minimal`, as in `ubi8-minimal`.
    Minimal,
}

impl Follower {
    /// Whether `word` belongs to the distro word before it.
    fn accepts(self, word: &[Token]) -> bool {
        match self {
            Follower::Nothing => false,
            Follower::Version => is_dotted_number(word),
            Follower::WindowsBuild => {
                is_dotted_number(word) || strip_stem(word, "ltsc").is_some_and(is_dotted_number)
            }
            Follower::Minimal => strip_stem(word, "minimal").is_some_and(<[Token]>::is_empty),
        }
    }

    /// What may follow after this follower matched once.
    fn after_match(self) -> Follower {
        match self {
            Follower::WindowsBuild => Follower::WindowsBuild,
            _ => Follower::Nothing,
        }
    }
}

/// Whether a release number may be glued to a known word.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Attached {
    /// `alpine`, `alpine3.19`, `alpine${ALPINE_VERSION}`, `ubi`, `ubi9`.
    Optional,
    /// `r9` (Bitnami revision): the bare letter means nothing.
    Required,
}

/// One entry of [`DISTRO_WORDS`].
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
struct DistroWord {
    stem: &'static str,
    attached: Attached,
    follower: Follower,
}

impl DistroWord {
    /// Whether `word` is this distro word (with any release number glued to it).
    fn matches(&self, word: &[Token]) -> bool {
        strip_stem(word, self.stem).is_some_and(|rest| match self.attached {
            Attached::Optional => rest.is_empty() || is_dotted_number(rest),
            Attached::Required => is_dotted_number(rest),
        })
    }
}

/// Shorthand for building [`DISTRO_WORDS`].
const fn distro(stem: &'static str, attached: Attached, follower: Follower) -> DistroWord {
    DistroWord {
        stem,
        attached,
        follower,
    }
}

/// Tag suffix words that only say which base distribution, release or image size an
/// upstream image was built on. Hardened images have exactly one base, so their tags carry
/// none of these, and a replacement tag drops them. Combinations such as `bookworm-slim` or
/// `slim-bookworm` need no entry: each word is looked up on its own. Every stem also matches
/// with a release number or variable glued on (`alpine3.19`, `alpine${ALPINE_VERSION}`,
/// `ubi9`); `r` matches only that way (`r9`, a Bitnami revision).
const DISTRO_WORDS: &[DistroWord] = &[
    distro("alpine", Attached::Optional, Follower::Nothing),
    distro("slim", Attached::Optional, Follower::Nothing),
    distro("bookworm", Attached::Optional, Follower::Nothing),
    distro("bullseye", Attached::Optional, Follower::Nothing),
    distro("buster", Attached::Optional, Follower::Nothing),
    distro("stretch", Attached::Optional, Follower::Nothing),
    distro("jessie", Attached::Optional, Follower::Nothing),
    distro("trixie", Attached::Optional, Follower::Nothing),
    distro("sid", Attached::Optional, Follower::Nothing),
    distro("jammy", Attached::Optional, Follower::Nothing),
    distro("focal", Attached::Optional, Follower::Nothing),
    distro("noble", Attached::Optional, Follower::Nothing),
    distro("bionic", Attached::Optional, Follower::Nothing),
    distro("xenial", Attached::Optional, Follower::Nothing),
    distro("resolute", Attached::Optional, Follower::Nothing),
    distro("debian", Attached::Optional, Follower::Version),
    distro("ubuntu", Attached::Optional, Follower::Version),
    distro("r", Attached::Required, Follower::Nothing),
    distro("ubi", Attached::Optional, Follower::Minimal),
    distro(
        "windowsservercore",
        Attached::Optional,
        Follower::WindowsBuild,
    ),
    distro("nanoserver", Attached::Optional, Follower::WindowsBuild),
];

/// The tag a replacement image gets, per hardport's tag policy.
///
/// Hardened tags equal upstream versions and named lines, with no distro suffixes, so the
/// tag is split into a head (a version such as `1.27` or `v2.8.0`, a version built from
/// variables such as `${NODE_VERSION}` or `v${MAJOR}.${MINOR}`, or a named line such as
/// `lts`) and `-`-separated suffix words; known distro words are dropped and unknown words
/// are kept after the head, in order, for the caller to warn about. `-` inside `${…}` never
/// splits. Empty words (`1.0--alpine`) carry nothing and are skipped. Without a tag, or
/// when nothing is left, the result is `latest`.
pub fn replacement_tag(tag: Option<&str>) -> ReplacementTag {
    let tokens = tokenize(tag.unwrap_or(DEFAULT_TAG));
    let words: Vec<&[Token]> = tokens
        .split(|token| token.is_char('-'))
        .filter(|word| !word.is_empty())
        .collect();
    let (head, suffix) = match words.split_first() {
        Some((first, rest)) if is_head(first) => (Some(text_of(first)), rest),
        _ => (None, words.as_slice()),
    };
    let (dropped, kept_variant) = classify_suffix(suffix);
    ReplacementTag {
        tag: compose_tag(head, &kept_variant),
        dropped,
        kept_variant,
    }
}

/// Whether the first word of a tag is a version or a named line.
fn is_head(word: &[Token]) -> bool {
    is_version(word) || NAMED_LINES.contains(&text_of(word).as_str())
}

/// `v?N([._]N)*`, where each `N` is digits and/or variables. `_` joins a build number, as in
/// Eclipse Temurin's `21.0.4_7`.
fn is_version(word: &[Token]) -> bool {
    let number = match word.split_first() {
        Some((first, rest)) if first.is_char('v') => rest,
        _ => word,
    };
    is_dotted_number(number)
}

/// `N([._]N)*`, where each `N` is a non-empty run of digits and/or variables.
fn is_dotted_number(tokens: &[Token]) -> bool {
    tokens
        .split(|token| token.is_char('.') || token.is_char('_'))
        .all(|part| {
            !part.is_empty()
                && part.iter().all(|token| {
                    token.is_variable() || matches!(token, Token::Char(c) if c.is_ascii_digit())
                })
        })
}

/// What is left of `word` after the literal `stem`, if it starts with it.
fn strip_stem<'w>(word: &'w [Token], stem: &str) -> Option<&'w [Token]> {
    let mut rest = word;
    for expected in stem.chars() {
        let (first, tail) = rest.split_first()?;
        if !first.is_char(expected) {
            return None;
        }
        rest = tail;
    }
    Some(rest)
}

/// The distro word `word` is, if any.
fn distro_word(word: &[Token]) -> Option<&'static DistroWord> {
    DISTRO_WORDS.iter().find(|distro| distro.matches(word))
}

/// Splits suffix words into (dropped, kept), each in original order.
fn classify_suffix(words: &[&[Token]]) -> (Vec<String>, Vec<String>) {
    let mut dropped = Vec::new();
    let mut kept = Vec::new();
    let mut follower = Follower::Nothing;
    for word in words {
        let next = if follower.accepts(word) {
            Some(follower.after_match())
        } else {
            distro_word(word).map(|distro| distro.follower)
        };
        match next {
            Some(next) => {
                dropped.push(text_of(word));
                follower = next;
            }
            None => {
                kept.push(text_of(word));
                follower = Follower::Nothing;
            }
        }
    }
    (dropped, kept)
}

/// Head and kept words joined with `-`, or `latest` when there are none.
fn compose_tag(head: Option<String>, kept: &[String]) -> String {
    let parts: Vec<&str> = head.iter().chain(kept).map(String::as_str).collect();
    if parts.is_empty() {
        DEFAULT_TAG.to_owned()
    } else {
        parts.join("-")
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    /// Builds the expected value for a successful parse.
    fn image(
        registry: Option<&str>,
        path: &str,
        tag: Option<&str>,
        digest: Option<&str>,
    ) -> ImageRef {
        ImageRef {
            registry: registry.map(str::to_owned),
            path: path.to_owned(),
            tag: tag.map(str::to_owned),
            digest: digest.map(str::to_owned),
        }
    }

    /// Parses text the test knows to be valid, failing the test with the error otherwise.
    fn parse_ok(text: &str) -> ImageRef {
        match ImageRef::parse(text) {
            Ok(image) => image,
            Err(error) => panic!("{text:?} should parse, got {error}"),
        }
    }

    /// Builds the expected value for a replacement tag.
    fn replacement(tag: &str, dropped: &[&str], kept: &[&str]) -> ReplacementTag {
        ReplacementTag {
            tag: tag.to_owned(),
            dropped: dropped.iter().map(|word| (*word).to_owned()).collect(),
            kept_variant: kept.iter().map(|word| (*word).to_owned()).collect(),
        }
    }

    const DIGEST: &str = "sha256:0123456789abcdef0123456789abcdef0123456789abcdef0123456789abcdef";

    // --- parse: plain references -------------------------------------------------------

    #[test]
    fn parses_bare_name() {
        assert_eq!(parse_ok("nginx"), image(None, "nginx", None, None));
    }

    #[test]
    fn parses_name_with_tag() {
        assert_eq!(
            parse_ok("nginx:1.27"),
            image(None, "nginx", Some("1.27"), None)
        );
    }

    #[test]
    fn namespace_without_dot_is_not_a_registry() {
        assert_eq!(
            parse_ok("bitnami/postgresql:16.4.0-debian-12-r9"),
            image(
                None,
                "bitnami/postgresql",
                Some("16.4.0-debian-12-r9"),
                None
            )
        );
        assert_eq!(
            parse_ok("library/nginx"),
            image(None, "library/nginx", None, None)
        );
    }

    #[test]
    fn parses_registry_with_dot() {
        assert_eq!(
            parse_ok("quay.io/argoproj/argocd:v2.8.0"),
            image(Some("quay.io"), "argoproj/argocd", Some("v2.8.0"), None)
        );
    }

    #[test]
    fn port_colon_is_not_a_tag() {
        assert_eq!(
            parse_ok("host:5000/repo"),
            image(Some("host:5000"), "repo", None, None)
        );
    }

    #[test]
    fn parses_all_four_parts() {
        assert_eq!(
            parse_ok("host:5000/repo:1.0@sha256:abc"),
            image(Some("host:5000"), "repo", Some("1.0"), Some("sha256:abc"))
        );
    }

    #[test]
    fn localhost_is_a_registry_in_any_case() {
        assert_eq!(
            parse_ok("localhost/app"),
            image(Some("localhost"), "app", None, None)
        );
        assert_eq!(
            parse_ok("LocalHost/app"),
            image(Some("LocalHost"), "app", None, None)
        );
    }

    #[test]
    fn single_component_with_colon_is_name_and_tag() {
        assert_eq!(
            parse_ok("host:5000"),
            image(None, "host", Some("5000"), None)
        );
    }

    #[test]
    fn parses_digest_without_tag() {
        let text = format!("nginx@{DIGEST}");
        assert_eq!(parse_ok(&text), image(None, "nginx", None, Some(DIGEST)));
    }

    #[test]
    fn parses_ipv6_registry() {
        assert_eq!(
            parse_ok("[::1]:5000/app:1"),
            image(Some("[::1]:5000"), "app", Some("1"), None)
        );
    }

    #[test]
    fn parses_deep_path() {
        assert_eq!(
            parse_ok("registry.example.com/a/b/c:1"),
            image(Some("registry.example.com"), "a/b/c", Some("1"), None)
        );
    }

    #[test]
    fn accepts_uppercase_path_leniently() {
        assert_eq!(
            parse_ok("MyOrg/App:V1"),
            image(None, "MyOrg/App", Some("V1"), None)
        );
    }

    #[test]
    fn accepts_composite_digest_algorithm() {
        assert_eq!(
            parse_ok("app@multihash+base58:abc").digest.as_deref(),
            Some("multihash+base58:abc")
        );
    }

    // --- parse: variables --------------------------------------------------------------

    #[test]
    fn variable_in_tag() {
        assert_eq!(
            parse_ok("node:${NODE_VERSION}-alpine"),
            image(None, "node", Some("${NODE_VERSION}-alpine"), None)
        );
    }

    #[test]
    fn whole_variable_is_the_path() {
        assert_eq!(
            parse_ok("${BASE_IMAGE}"),
            image(None, "${BASE_IMAGE}", None, None)
        );
        assert_eq!(
            parse_ok("$BASE_IMAGE"),
            image(None, "$BASE_IMAGE", None, None)
        );
    }

    #[test]
    fn separators_inside_braces_are_not_separators() {
        assert_eq!(
            parse_ok("${VAR:-default/x:y}"),
            image(None, "${VAR:-default/x:y}", None, None)
        );
        assert_eq!(
            parse_ok("${BASE:-a@sha256:abc}:1"),
            image(None, "${BASE:-a@sha256:abc}", Some("1"), None)
        );
    }

    #[test]
    fn variable_first_component_is_the_registry() {
        assert_eq!(
            parse_ok("${REGISTRY}/nginx:1.0"),
            image(Some("${REGISTRY}"), "nginx", Some("1.0"), None)
        );
        assert_eq!(
            parse_ok("my_ns${X}/app"),
            image(Some("my_ns${X}"), "app", None, None)
        );
    }

    #[test]
    fn bare_variables_everywhere() {
        assert_eq!(
            parse_ok("$REG/app:$TAG"),
            image(Some("$REG"), "app", Some("$TAG"), None)
        );
    }

    #[test]
    fn bare_variable_ends_at_non_name_character() {
        assert_eq!(
            parse_ok("app:$MAJOR.$MINOR"),
            image(None, "app", Some("$MAJOR.$MINOR"), None)
        );
    }

    #[test]
    fn modifier_forms_are_opaque() {
        assert_eq!(parse_ok("app:${VAR:+x}").tag.as_deref(), Some("${VAR:+x}"));
        assert_eq!(
            parse_ok("app:${VAR#pfx}").tag.as_deref(),
            Some("${VAR#pfx}")
        );
        assert_eq!(
            parse_ok("app:${VAR%%-*}").tag.as_deref(),
            Some("${VAR%%-*}")
        );
    }

    #[test]
    fn nested_braces_count() {
        assert_eq!(
            parse_ok("app:${A:-${B}}"),
            image(None, "app", Some("${A:-${B}}"), None)
        );
    }

    #[test]
    fn variables_in_every_part() {
        assert_eq!(
            parse_ok("${REG:-docker.io}/library/nginx:${TAG:-1.27}@${DIGEST}"),
            image(
                Some("${REG:-docker.io}"),
                "library/nginx",
                Some("${TAG:-1.27}"),
                Some("${DIGEST}")
            )
        );
    }

    #[test]
    fn digest_with_partial_variable() {
        assert_eq!(
            parse_ok("app@sha256:${HASH}").digest.as_deref(),
            Some("sha256:${HASH}")
        );
    }

    // --- parse: errors -----------------------------------------------------------------

    /// Asserts that `text` fails to parse with exactly `expected`.
    fn assert_error(text: &str, expected: ImageRefError) {
        assert_eq!(ImageRef::parse(text), Err(expected), "parsing {text:?}");
    }

    #[test]
    fn rejects_empty() {
        assert_error("", ImageRefError::Empty);
    }

    #[test]
    fn rejects_whitespace_anywhere() {
        for text in [
            " nginx",
            "nginx ",
            "ngi nx",
            "nginx:\t1",
            "a\nb",
            "app:${A:- x}",
        ] {
            assert_error(
                text,
                ImageRefError::Whitespace {
                    text: text.to_owned(),
                },
            );
        }
    }

    #[test]
    fn rejects_empty_components() {
        for text in [
            "a//b",
            "/x",
            "x/",
            "/",
            ":1",
            "@sha256:abc",
            "host:5000/:tag",
            "reg.io/",
        ] {
            assert_error(
                text,
                ImageRefError::EmptyComponent {
                    text: text.to_owned(),
                },
            );
        }
    }

    #[test]
    fn rejects_empty_tag() {
        for text in ["nginx:", "host:5000/repo:", "nginx:@sha256:abc"] {
            assert_error(
                text,
                ImageRefError::EmptyTag {
                    text: text.to_owned(),
                },
            );
        }
    }

    #[test]
    fn rejects_empty_digest() {
        for text in ["nginx@", "nginx:1@"] {
            assert_error(
                text,
                ImageRefError::EmptyDigest {
                    text: text.to_owned(),
                },
            );
        }
    }

    #[test]
    fn rejects_malformed_digests() {
        for (text, digest) in [
            ("nginx@sha256", "sha256"),
            ("nginx@sha256:", "sha256:"),
            ("nginx@:abc", ":abc"),
            ("nginx@sha256:xyz", "sha256:xyz"),
            ("nginx@1sha:ab", "1sha:ab"),
            ("nginx@sha256+:ab", "sha256+:ab"),
            ("nginx@sha256:ab@cd", "sha256:ab@cd"),
            ("a@sha256:abc/x", "sha256:abc/x"),
        ] {
            assert_error(
                text,
                ImageRefError::InvalidDigest {
                    text: text.to_owned(),
                    digest: digest.to_owned(),
                },
            );
        }
    }

    #[test]
    fn rejects_unterminated_variables() {
        for (text, variable) in [
            ("${X", "${X"),
            ("nginx:${X", "${X"),
            ("app:${A:-${B}", "${A:-${B}"),
            ("${", "${"),
        ] {
            assert_error(
                text,
                ImageRefError::UnterminatedVariable {
                    text: text.to_owned(),
                    variable: variable.to_owned(),
                },
            );
        }
    }

    #[test]
    fn rejects_variables_without_a_name() {
        for (text, variable) in [("app:${}", "${}"), ("${1}", "${1}"), ("a:${-x}", "${-x}")] {
            assert_error(
                text,
                ImageRefError::InvalidVariable {
                    text: text.to_owned(),
                    variable: variable.to_owned(),
                },
            );
        }
    }

    /// Asserts an `InvalidCharacter` error with the given details.
    fn assert_invalid_char(text: &str, part: &'static str, value: &str, ch: char) {
        assert_error(
            text,
            ImageRefError::InvalidCharacter {
                text: text.to_owned(),
                part,
                value: value.to_owned(),
                ch,
            },
        );
    }

    #[test]
    fn rejects_colon_inside_path() {
        assert_invalid_char("a/b:c/d", "path component", "b:c", ':');
        assert_invalid_char("nginx:1.0:2", "path component", "nginx:1.0", ':');
    }

    #[test]
    fn rejects_bad_characters_per_part() {
        assert_invalid_char("ngin!x", "path component", "ngin!x", '!');
        assert_invalid_char("nginx:1.0!", "tag", "1.0!", '!');
        assert_invalid_char("bad!.io/x", "registry", "bad!.io", '!');
        assert_invalid_char("app@sha256:${H}!", "digest", "sha256:${H}!", '!');
        assert_invalid_char("café", "path component", "café", 'é');
    }

    #[test]
    fn rejects_lone_dollar_and_stray_braces() {
        assert_invalid_char("app:$", "tag", "$", '$');
        assert_invalid_char("app:1$-x", "tag", "1$-x", '$');
        assert_invalid_char("app:{x}", "tag", "{x}", '{');
        assert_invalid_char("app}", "path component", "app}", '}');
    }

    #[test]
    fn error_messages_name_the_input() {
        let cases = [
            "nginx:",
            "nginx@",
            "a//b",
            "nginx@sha256:xyz",
            "${X",
            "app:${}",
            "ngin!x",
            "a b",
        ];
        for text in cases {
            let message = match ImageRef::parse(text) {
                Ok(image) => panic!("{text:?} should fail, parsed as {image:?}"),
                Err(error) => error.to_string(),
            };
            assert!(message.contains(&format!("{text:?}")), "{message}");
        }
        assert_eq!(
            ImageRef::parse("ngin!x").map_err(|error| error.to_string()),
            Err(
                "image reference \"ngin!x\" has character '!', which is not allowed in path component \"ngin!x\""
                    .to_owned()
            )
        );
        assert_eq!(
            ImageRef::parse("${X").map_err(|error| error.to_string()),
            Err(
                "image reference \"${X\" has an unterminated variable \"${X\" (missing `}`)"
                    .to_owned()
            )
        );
    }

    // --- Display -----------------------------------------------------------------------

    #[test]
    fn display_round_trips_valid_references() {
        let digest_ref = format!("docker.io/library/nginx:1.27@{DIGEST}");
        let cases = [
            "nginx",
            "nginx:1.27",
            "library/nginx",
            "docker.io/library/nginx",
            digest_ref.as_str(),
            "host:5000/repo",
            "host:5000/repo:1.0@sha256:abc",
            "[::1]:5000/app:1",
            "LocalHost/app",
            "MyOrg/App:V1",
            "node:${NODE_VERSION}-alpine",
            "${BASE_IMAGE}",
            "${VAR:-default/x:y}",
            "$REG/app:$TAG",
            "app:${A:-${B}}",
            "${REG:-docker.io}/library/nginx:${TAG:-1.27}@${DIGEST}",
            "app@sha256:${HASH}",
        ];
        for text in cases {
            assert_eq!(parse_ok(text).to_string(), text);
        }
    }

    #[test]
    fn display_prints_constructed_parts() {
        assert_eq!(
            image(Some("quay.io"), "a/b", Some("1"), Some("sha256:ab")).to_string(),
            "quay.io/a/b:1@sha256:ab"
        );
        assert_eq!(image(None, "nginx", None, None).to_string(), "nginx");
    }

    /// Every string over a small alphabet of separators, variable syntax, whitespace and a
    /// multi-byte character: parsing must never panic, and whatever parses must round-trip.
    #[test]
    fn exhaustive_short_inputs_never_panic_and_round_trip() {
        const ALPHABET: [char; 12] = ['a', '1', '/', ':', '@', '$', '{', '}', '.', '-', ' ', 'é'];
        let mut texts = vec![String::new()];
        let mut accepted = 0;
        for _ in 0..4 {
            texts = texts
                .iter()
                .flat_map(|text| ALPHABET.iter().map(move |c| format!("{text}{c}")))
                .collect();
            for text in &texts {
                if let Ok(image) = ImageRef::parse(text) {
                    assert_eq!(&image.to_string(), text);
                    accepted += 1;
                }
                assert!(!replacement_tag(Some(text)).tag.is_empty(), "{text:?}");
            }
        }
        assert!(accepted > 100, "only {accepted} inputs parsed");
    }

    // --- has_variables -----------------------------------------------------------------

    #[test]
    fn has_variables_in_each_part() {
        for text in ["${R}/app", "$APP", "app:$TAG", "app@${D}", "ns/${APP}:1"] {
            assert!(parse_ok(text).has_variables(), "{text:?}");
        }
    }

    #[test]
    fn has_no_variables_when_static() {
        let text = format!("quay.io/a/b:1@{DIGEST}");
        assert!(!parse_ok(&text).has_variables());
        assert!(!parse_ok("nginx").has_variables());
    }

    // --- canonical_repository ----------------------------------------------------------

    #[test]
    fn docker_hub_forms_are_normalised() {
        for text in [
            "nginx",
            "nginx:1.27",
            "library/nginx",
            "docker.io/nginx",
            "docker.io/library/nginx",
            "index.docker.io/library/nginx",
            "registry-1.docker.io/library/nginx",
            "registry.hub.docker.com/nginx",
            "registry.docker.com/library/nginx",
            "Docker.IO/library/nginx",
        ] {
            assert_eq!(
                parse_ok(text).canonical_repository().as_deref(),
                Some("docker.io/library/nginx"),
                "{text:?}"
            );
        }
    }

    #[test]
    fn docker_hub_namespaces_are_kept() {
        assert_eq!(
            parse_ok("bitnami/redis:7")
                .canonical_repository()
                .as_deref(),
            Some("docker.io/bitnami/redis")
        );
    }

    #[test]
    fn other_registries_stay() {
        assert_eq!(
            parse_ok("quay.io/argoproj/argocd:v2.8.0")
                .canonical_repository()
                .as_deref(),
            Some("quay.io/argoproj/argocd")
        );
        assert_eq!(
            parse_ok("localhost:5000/app")
                .canonical_repository()
                .as_deref(),
            Some("localhost:5000/app")
        );
    }

    #[test]
    fn canonical_lowercases_registry_but_not_path() {
        assert_eq!(
            parse_ok("Quay.IO/MyOrg/App")
                .canonical_repository()
                .as_deref(),
            Some("quay.io/MyOrg/App")
        );
    }

    #[test]
    fn canonical_ignores_tag_and_digest_variables() {
        assert_eq!(
            parse_ok("node:${NODE_VERSION}@${D}")
                .canonical_repository()
                .as_deref(),
            Some("docker.io/library/node")
        );
    }

    #[test]
    fn canonical_is_none_for_variable_registry_or_path() {
        for text in [
            "${REGISTRY}/nginx:1.0",
            "$REG/app",
            "${BASE_IMAGE}",
            "bitnami/${APP}",
        ] {
            assert_eq!(parse_ok(text).canonical_repository(), None, "{text:?}");
        }
    }

    // --- normalize_repository ----------------------------------------------------------

    #[test]
    fn normalizes_catalog_values() {
        assert_eq!(
            normalize_repository("node"),
            Ok("docker.io/library/node".to_owned())
        );
        assert_eq!(
            normalize_repository("index.docker.io/bitnami/redis"),
            Ok("docker.io/bitnami/redis".to_owned())
        );
        assert_eq!(
            normalize_repository("quay.io/argoproj/argocd"),
            Ok("quay.io/argoproj/argocd".to_owned())
        );
    }

    #[test]
    fn catalog_value_with_tag_or_digest_is_an_error() {
        for text in ["node:20", "node@sha256:abc", "quay.io/a/b:1@sha256:abc"] {
            assert_eq!(
                normalize_repository(text),
                Err(ImageRefError::TagOrDigestInRepository {
                    text: text.to_owned()
                })
            );
        }
    }

    #[test]
    fn catalog_value_with_variable_is_an_error() {
        assert_eq!(
            normalize_repository("${REG}/node"),
            Err(ImageRefError::VariableInRepository {
                text: "${REG}/node".to_owned()
            })
        );
    }

    #[test]
    fn catalog_value_parse_errors_pass_through() {
        assert_eq!(normalize_repository(""), Err(ImageRefError::Empty));
        assert_eq!(
            normalize_repository("a//b"),
            Err(ImageRefError::EmptyComponent {
                text: "a//b".to_owned()
            })
        );
    }

    // --- replacement_tag: required examples ---------------------------------------------

    #[test]
    fn no_tag_means_latest() {
        assert_eq!(replacement_tag(None), replacement("latest", &[], &[]));
    }

    #[test]
    fn plain_versions_are_kept() {
        for tag in ["1.27", "22.04", "v2.8.0", "20", "16.4.0"] {
            assert_eq!(replacement_tag(Some(tag)), replacement(tag, &[], &[]));
        }
    }

    #[test]
    fn drops_alpine() {
        assert_eq!(
            replacement_tag(Some("1.27-alpine")),
            replacement("1.27", &["alpine"], &[])
        );
    }

    #[test]
    fn drops_slim_and_codename_in_either_order() {
        assert_eq!(
            replacement_tag(Some("3.12-slim-bookworm")),
            replacement("3.12", &["slim", "bookworm"], &[])
        );
        assert_eq!(
            replacement_tag(Some("20-bookworm-slim")),
            replacement("20", &["bookworm", "slim"], &[])
        );
    }

    #[test]
    fn drops_bitnami_debian_and_revision() {
        assert_eq!(
            replacement_tag(Some("16.4.0-debian-12-r9")),
            replacement("16.4.0", &["debian", "12", "r9"], &[])
        );
    }

    #[test]
    fn named_lines_are_heads() {
        assert_eq!(
            replacement_tag(Some("lts-alpine")),
            replacement("lts", &["alpine"], &[])
        );
        assert_eq!(
            replacement_tag(Some("mainline")),
            replacement("mainline", &[], &[])
        );
        assert_eq!(
            replacement_tag(Some("stable-perl")),
            replacement("stable-perl", &[], &["perl"])
        );
        assert_eq!(
            replacement_tag(Some("latest")),
            replacement("latest", &[], &[])
        );
    }

    #[test]
    fn only_distro_words_give_latest() {
        assert_eq!(
            replacement_tag(Some("alpine")),
            replacement("latest", &["alpine"], &[])
        );
        assert_eq!(
            replacement_tag(Some("bookworm-slim")),
            replacement("latest", &["bookworm", "slim"], &[])
        );
        assert_eq!(
            replacement_tag(Some("alpine3.19")),
            replacement("latest", &["alpine3.19"], &[])
        );
    }

    #[test]
    fn variable_heads_are_kept() {
        assert_eq!(
            replacement_tag(Some("${NODE_VERSION}-alpine")),
            replacement("${NODE_VERSION}", &["alpine"], &[])
        );
        assert_eq!(
            replacement_tag(Some("${NODE_VERSION}-alpine${ALPINE_VERSION}")),
            replacement("${NODE_VERSION}", &["alpine${ALPINE_VERSION}"], &[])
        );
        assert_eq!(
            replacement_tag(Some("${TAG}")),
            replacement("${TAG}", &[], &[])
        );
        assert_eq!(
            replacement_tag(Some("$VERSION-slim")),
            replacement("$VERSION", &["slim"], &[])
        );
    }

    #[test]
    fn alpine_with_glued_version_is_dropped() {
        assert_eq!(
            replacement_tag(Some("1.21.6-alpine3.19")),
            replacement("1.21.6", &["alpine3.19"], &[])
        );
    }

    #[test]
    fn unknown_words_are_kept_after_head() {
        assert_eq!(
            replacement_tag(Some("8.3-fpm-alpine")),
            replacement("8.3-fpm", &["alpine"], &["fpm"])
        );
    }

    #[test]
    fn build_numbers_joined_by_underscore_are_part_of_the_version() {
        assert_eq!(
            replacement_tag(Some("21.0.4_7-jre-noble")),
            replacement("21.0.4_7-jre", &["noble"], &["jre"])
        );
        assert_eq!(
            replacement_tag(Some("24.0.2_12")),
            replacement("24.0.2_12", &[], &[])
        );
    }

    #[test]
    fn numeric_words_are_unknown_and_kept() {
        assert_eq!(
            replacement_tag(Some("2024-01-05")),
            replacement("2024-01-05", &[], &["01", "05"])
        );
    }

    #[test]
    fn headless_unknown_words_become_the_tag() {
        assert_eq!(
            replacement_tag(Some("perl")),
            replacement("perl", &[], &["perl"])
        );
        assert_eq!(
            replacement_tag(Some("otel")),
            replacement("otel", &[], &["otel"])
        );
        assert_eq!(
            replacement_tag(Some("fpm-alpine")),
            replacement("fpm", &["alpine"], &["fpm"])
        );
    }

    // --- replacement_tag: further cases -------------------------------------------------

    #[test]
    fn ubi_with_minimal() {
        assert_eq!(
            replacement_tag(Some("1.0-ubi8-minimal")),
            replacement("1.0", &["ubi8", "minimal"], &[])
        );
        assert_eq!(
            replacement_tag(Some("1.0-ubi")),
            replacement("1.0", &["ubi"], &[])
        );
    }

    #[test]
    fn minimal_without_ubi_is_kept() {
        assert_eq!(
            replacement_tag(Some("1.0-minimal")),
            replacement("1.0-minimal", &[], &["minimal"])
        );
        assert_eq!(
            replacement_tag(Some("1.0-ubi9-fips-minimal")),
            replacement("1.0-fips-minimal", &["ubi9"], &["fips", "minimal"])
        );
    }

    #[test]
    fn windows_bases_with_builds() {
        assert_eq!(
            replacement_tag(Some("4.8-windowsservercore-ltsc2022")),
            replacement("4.8", &["windowsservercore", "ltsc2022"], &[])
        );
        assert_eq!(
            replacement_tag(Some("3.1-nanoserver-1809-10.0.17763")),
            replacement("3.1", &["nanoserver", "1809", "10.0.17763"], &[])
        );
    }

    #[test]
    fn ltsc_alone_is_unknown() {
        assert_eq!(
            replacement_tag(Some("4.8-ltsc2022")),
            replacement("4.8-ltsc2022", &[], &["ltsc2022"])
        );
    }

    #[test]
    fn debian_and_ubuntu_take_one_release_number() {
        assert_eq!(
            replacement_tag(Some("1.0-ubuntu-22.04")),
            replacement("1.0", &["ubuntu", "22.04"], &[])
        );
        assert_eq!(
            replacement_tag(Some("1.0-debian-12-7")),
            replacement("1.0-7", &["debian", "12"], &["7"])
        );
        assert_eq!(
            replacement_tag(Some("1.0-debian-${DEBIAN_VERSION}")),
            replacement("1.0", &["debian", "${DEBIAN_VERSION}"], &[])
        );
    }

    #[test]
    fn codenames_do_not_take_release_numbers() {
        assert_eq!(
            replacement_tag(Some("bookworm-20240110")),
            replacement("20240110", &["bookworm"], &["20240110"])
        );
    }

    #[test]
    fn revision_needs_a_number() {
        assert_eq!(
            replacement_tag(Some("1.0-r")),
            replacement("1.0-r", &[], &["r"])
        );
        assert_eq!(
            replacement_tag(Some("1.0-rc1")),
            replacement("1.0-rc1", &[], &["rc1"])
        );
        assert_eq!(
            replacement_tag(Some("1.0-r2")),
            replacement("1.0", &["r2"], &[])
        );
    }

    #[test]
    fn stems_must_be_whole_words_or_numbered() {
        assert_eq!(
            replacement_tag(Some("1.0-alpinex")),
            replacement("1.0-alpinex", &[], &["alpinex"])
        );
        assert_eq!(
            replacement_tag(Some("1.0-slimmer")),
            replacement("1.0-slimmer", &[], &["slimmer"])
        );
    }

    #[test]
    fn versions_built_from_variables_are_heads() {
        assert_eq!(
            replacement_tag(Some("v${MAJOR}.${MINOR}-slim")),
            replacement("v${MAJOR}.${MINOR}", &["slim"], &[])
        );
    }

    #[test]
    fn malformed_versions_are_not_heads() {
        for tag in ["v", "1.", ".1", "1..2", "V1.0"] {
            assert_eq!(
                replacement_tag(Some(tag)),
                replacement(tag, &[], &[tag]),
                "{tag:?}"
            );
        }
    }

    #[test]
    fn dashes_inside_variables_do_not_split() {
        assert_eq!(
            replacement_tag(Some("${A:-1-alpine}")),
            replacement("${A:-1-alpine}", &[], &[])
        );
    }

    #[test]
    fn variable_suffix_word_is_kept() {
        assert_eq!(
            replacement_tag(Some("1.0-${FLAVOR}")),
            replacement("1.0-${FLAVOR}", &[], &["${FLAVOR}"])
        );
    }

    #[test]
    fn empty_words_are_skipped() {
        assert_eq!(replacement_tag(Some("")), replacement("latest", &[], &[]));
        assert_eq!(
            replacement_tag(Some("1.0--alpine-")),
            replacement("1.0", &["alpine"], &[])
        );
    }

    #[test]
    fn unterminated_variable_does_not_panic() {
        assert_eq!(
            replacement_tag(Some("${X-alpine")),
            replacement("${X-alpine", &[], &[])
        );
    }
}
