//! Parse errors of the profiles file without the secrets in it.
//!
//! Why: the TOML parser's message quotes the offending line (its "snippet"), and serde's type
//! errors quote the value (`invalid type: integer `1234`, expected a string`). A password kept
//! in the file then showed on stderr and in the window's banner. So the snippet is dropped
//! (line and column stay), and every value of a secret-looking key found anywhere in the text
//! is replaced by `•••` in what remains.

/// What replaces a secret in messages.
pub const MASK: &str = "•••";

/// Whether a key name holds a secret: passwords, passphrases, tokens, secrets, and keys
/// (but not `client_key_file`, which is a path).
fn is_secret_key(name: &str) -> bool {
    let name = name.to_ascii_lowercase();
    ["pass", "secret", "token", "credential"]
        .iter()
        .any(|w| name.contains(w))
        || name == "key"
        || name.ends_with("_key")
        // A proxy URL may hold `user:password@`.
        || name == "proxy"
}

/// The value text after `=` on one line: a quoted string's content (up to its closing quote
/// or the end of the line, for a broken one) or a bare value up to `,`, `}` or `#`.
fn value_after(rest: &str) -> Option<&str> {
    let rest = rest.trim_start();
    let quote = rest.chars().next().filter(|c| *c == '"' || *c == '\'');
    let value = match quote {
        Some(q) => {
            let inner = rest[1..].trim_start_matches(q);
            let mut end = inner.len();
            let mut escaped = false;
            for (i, c) in inner.char_indices() {
                if c == q && !escaped {
                    end = i;
                    break;
                }
                escaped = q == '"' && c == '\\' && !escaped;
            }
            &inner[..end]
        }
        None => rest.split([',', '}', '#']).next().unwrap_or_default().trim(),
    };
    (!value.is_empty()).then_some(value)
}

/// Every value of a secret key in a (possibly broken) TOML text, found line by line, also
/// inside inline tables (`{ password = "x" }`) and with quoted keys.
pub fn secret_values(text: &str) -> Vec<String> {
    let mut values = Vec::new();
    for line in text.lines() {
        let mut rest = line;
        while let Some(eq) = rest.find('=') {
            let key = rest[..eq]
                .rsplit(['{', ',', '.', '[', ' ', '\t'])
                .find(|k| !k.trim().is_empty())
                .unwrap_or_default()
                .trim()
                .trim_matches(['"', '\'']);
            let after = &rest[eq + 1..];
            if is_secret_key(key)
                && let Some(v) = value_after(after)
            {
                values.push(v.to_owned());
                // The raw form too: a type error quotes `123` for `password = 123`.
                values.push(after.trim().to_owned());
            }
            rest = after;
        }
    }
    // Longest first, so that a value containing a shorter one is masked whole.
    values.sort_by_key(|v| std::cmp::Reverse(v.len()));
    values.dedup();
    values
}

/// Replaces every secret value of `source` found in `message`.
pub fn mask_secrets(message: &str, source: &str) -> String {
    let mut out = message.to_owned();
    for secret in secret_values(source) {
        out = out.replace(&secret, MASK);
    }
    out
}

/// The TOML error in one line, `line L, column C: message`, with no snippet and no secret.
pub fn toml_error(text: &str, e: &toml::de::Error) -> String {
    let message = mask_secrets(e.message().trim(), text).replace('\n', " ");
    match e.span() {
        Some(span) => {
            let before = text.get(..span.start).unwrap_or(text);
            let line = before.matches('\n').count() + 1;
            let column = before.rsplit('\n').next().map_or(0, |l| l.chars().count()) + 1;
            format!("line {line}, column {column}: {message}")
        }
        None => message,
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn parse_error(text: &str) -> String {
        match toml::from_str::<super::super::store::ProfilesFile>(text) {
            Ok(_) => panic!("should not parse: {text}"),
            Err(e) => toml_error(text, &e),
        }
    }

    #[test]
    fn secrets_never_reach_the_message() {
        for text in [
            "version = 1\n[[profiles]]\npassword = \"hunter2-secret\"\nport = \"x\"\n",
            "version = 1\n[[profiles]]\npassword = \"hunter2-secret\" oops\n",
            "version = 1\n[[profiles]]\npassword = \"hunter2-secret\n",
            "version = 1\n[[profiles]]\npassword = 'hunter2-secret'\n[[profiles]\n",
            "version = 1\n[[profiles]]\npassword = 123456789\n",
            "version = 1\nprofiles = [{ name = \"a\", \"password\" = \"hunter2-secret\", port = -1 }]\n",
            "version = 1\n[[profiles]]\nkey_passphrase = \"hunter2-secret\"\nport = 99999\n",
        ] {
            let message = parse_error(text);
            assert!(!message.contains("hunter2-secret"), "{message}");
            assert!(!message.contains("123456789"), "{message}");
            assert!(message.starts_with("line "), "{message}");
        }
    }

    #[test]
    fn secret_values_are_found_but_paths_are_not() {
        let found =
            secret_values("password = \"a\\\"b\"\nclient_key_file = \"/k.pem\"\n{ token = tok, x = 1 }\n");
        assert!(found.contains(&"a\\\"b".to_owned()), "{found:?}");
        assert!(found.contains(&"tok".to_owned()), "{found:?}");
        assert!(!found.iter().any(|v| v.contains("k.pem")), "{found:?}");
    }

    #[test]
    fn line_and_column_point_at_the_error() {
        let message = parse_error("version = 1\n[[profiles]\n");
        assert!(message.starts_with("line 2, column"), "{message}");
    }
}
