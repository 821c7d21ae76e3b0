//! Secrets from commands: an account's `password_command` or `token_command` is run with
//! `sh -c` and the first line it prints is the secret (`pass show mail`). Neither the config
//! ([`crate::config`]) nor an error ever holds the secret itself; errors name the command.
//! A `Secret` and the command's output are overwritten with zeros once dropped, so no
//! copy outlives its use in the process's memory (a core dump, swap).

use zeroize::{Zeroize, Zeroizing};

/// The error returned when a `password_command` or `token_command` gives no secret. It
/// names the command, never its output.
#[derive(Debug, thiserror::Error)]
pub enum SecretError {
    #[error("cannot run {command:?}")]
    Run {
        command: String,
        #[source]
        source: std::io::Error,
    },
    #[error("{command:?} failed ({status})")]
    Failed {
        command: String,
        status: std::process::ExitStatus,
    },
    #[error("{command:?} printed no secret on its first line")]
    Empty { command: String },
}

/// Where an account's secret comes from: the output of a command run with `sh -c`.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Auth {
    /// A password (IMAP: AUTHENTICATE PLAIN or LOGIN).
    PasswordCommand(String),
    /// An OAuth 2.0 access token (IMAP: OAUTHBEARER or XOAUTH2; Mastodon's API).
    TokenCommand(String),
}

impl Auth {
    /// The secret the command prints; an error names the config field and the command,
    /// never the output.
    pub(crate) fn secret(&self) -> Result<Secret, String> {
        let (field, command) = match self {
            Auth::PasswordCommand(command) => ("password_command", command),
            Auth::TokenCommand(command) => ("token_command", command),
        };
        secret_from_command(command)
            .map(Secret)
            .map_err(|error| format!("{field} {error}"))
    }
}

/// A secret read from a command's output, kept out of `Debug` so that no log or error
/// shows it, and zeroed when dropped.
pub(crate) struct Secret(pub(crate) String);

impl Zeroize for Secret {
    fn zeroize(&mut self) {
        self.0.zeroize();
    }
}

impl Drop for Secret {
    fn drop(&mut self) {
        self.zeroize();
    }
}

impl std::fmt::Debug for Secret {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str("Secret(********)")
    }
}

/// The secret a command prints on its first line (`pass show mail`), run with `sh -c`; its
/// stderr goes to ours, so it can ask for a passphrase.
pub fn secret_from_command(command: &str) -> Result<String, SecretError> {
    let output = std::process::Command::new("sh")
        .args(["-c", command])
        .stdin(std::process::Stdio::inherit())
        .stderr(std::process::Stdio::inherit())
        .output()
        .map_err(|source| SecretError::Run {
            command: command.into(),
            source,
        })?;
    if !output.status.success() {
        return Err(SecretError::Failed {
            command: command.into(),
            status: output.status,
        });
    }
    // The output and the lossy copy of its first line hold the secret too.
    let stdout = Zeroizing::new(output.stdout);
    let first = stdout.split(|&b| b == b'\n').next().unwrap_or_default();
    let first = Zeroizing::new(String::from_utf8_lossy(first).into_owned());
    let secret = first.trim_end_matches('\r').to_string();
    if secret.is_empty() {
        return Err(SecretError::Empty {
            command: command.into(),
        });
    }
    Ok(secret)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_secret_is_zeroed_in_place_not_just_forgotten() {
        let mut secret = Secret("hunter2".into());
        let length = secret.0.len();
        secret.zeroize();
        assert!(secret.0.is_empty());
        // SAFETY: zeroize keeps the allocation (the String still owns it, at least
        // `length` bytes, all written); only its bytes are read.
        let bytes = unsafe { std::slice::from_raw_parts(secret.0.as_ptr(), length) };
        assert_eq!(bytes, [0; 7]);
    }

    #[test]
    fn a_secret_command_gives_its_first_line_and_its_errors_never_show_the_output() {
        assert_eq!(
            secret_from_command("printf 'hunter2\\nrest'").unwrap(),
            "hunter2"
        );
        let empty = secret_from_command("true").unwrap_err().to_string();
        assert!(empty.contains("printed no secret"), "{empty}");
        // The output is "s3cr3t"; the command's own text never spells it.
        let failed = secret_from_command("x=s3; printf \"${x}cr3t\"; exit 3")
            .unwrap_err()
            .to_string();
        assert!(
            failed.contains("failed") && !failed.contains("s3cr3t"),
            "{failed}"
        );
    }
}
