//! [`Platform`]: which image of a multi-platform index to read (`linux/amd64` by default).

use std::fmt;
use std::str::FromStr;

/// An `os/architecture[/variant]` triple, as `docker --platform` spells it.
#[derive(Debug, Clone, PartialEq, Eq, Hash)]
pub struct Platform {
    pub os: String,
    pub architecture: String,
    pub variant: Option<String>,
}

impl Default for Platform {
    /// `linux/amd64`: what CI runners and most clusters run.
    fn default() -> Self {
        Platform {
            os: "linux".into(),
            architecture: "amd64".into(),
            variant: None,
        }
    }
}

impl FromStr for Platform {
    type Err = String;

    /// Parses `os/arch` or `os/arch/variant`; letter case is folded as Docker does.
    fn from_str(text: &str) -> Result<Self, Self::Err> {
        let parts: Vec<&str> = text.split('/').collect();
        let valid = |part: &&str| {
            !part.is_empty()
                && part
                    .chars()
                    .all(|c| c.is_ascii_alphanumeric() || c == '_' || c == '-' || c == '.')
        };
        match parts.as_slice() {
            [os, architecture] | [os, architecture, _] if parts.iter().all(valid) => Ok(Platform {
                os: os.to_ascii_lowercase(),
                architecture: architecture.to_ascii_lowercase(),
                variant: parts.get(2).map(|variant| variant.to_ascii_lowercase()),
            }),
            _ => Err(format!(
                "platform {text:?} is not `os/architecture` or `os/architecture/variant` (such as linux/amd64, linux/arm64/v8)"
            )),
        }
    }
}

impl fmt::Display for Platform {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "{}/{}", self.os, self.architecture)?;
        if let Some(variant) = &self.variant {
            write!(f, "/{variant}")?;
        }
        Ok(())
    }
}

impl Platform {
    /// Whether an index entry for `other` is an image for this platform.
    ///
    /// The variant is compared with the defaults containerd applies (`arm64` means `v8`,
    /// `arm` means `v7`), so `linux/arm64` picks an entry written `linux/arm64/v8`. A wanted
    /// platform without a variant of another architecture accepts any variant.
    pub fn matches(&self, other: &Platform) -> bool {
        if !self.os.eq_ignore_ascii_case(&other.os)
            || !self.architecture.eq_ignore_ascii_case(&other.architecture)
        {
            return false;
        }
        let default = match self.architecture.as_str() {
            "arm64" => Some("v8"),
            "arm" => Some("v7"),
            _ => None,
        };
        let wanted = self.variant.as_deref().or(default);
        let offered = other.variant.as_deref().or(default);
        match (wanted, offered) {
            (Some(wanted), Some(offered)) => wanted.eq_ignore_ascii_case(offered),
            (None, _) => true,
            (Some(_), None) => false,
        }
    }
}
