//! Topic name and topic filter rules (MQTT 3.1.1 §4.7, MQTT 5 §4.7).

/// Why a topic or filter is not valid.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum TopicError {
    /// Empty string.
    #[error("the topic is empty")]
    Empty,
    /// Longer than 65,535 bytes.
    #[error("the topic is longer than 65535 bytes")]
    TooLong,
    /// Contains U+0000.
    #[error("the topic contains a NUL character")]
    Nul,
    /// Contains a control character (U+0001–U+001F, U+007F–U+009F): the specification says
    /// they SHOULD NOT appear and mosquitto closes the connection on them, which looked like a
    /// network failure and reconnected forever.
    #[error("the topic contains a control character (such as a tab or newline)")]
    ControlChar,
    /// A publish topic may not contain wildcards.
    #[error("a topic to publish to cannot contain the wildcards + or #")]
    WildcardInName,
    /// `#` somewhere other than the whole last level.
    #[error("`#` must be the last level of a filter and stand alone (e.g. `a/#`)")]
    MisplacedHash,
    /// `+` sharing a level with other characters.
    #[error("`+` must occupy a whole level (e.g. `a/+/c`)")]
    MisplacedPlus,
    /// `$share/` without a group or filter.
    #[error("a shared subscription must look like `$share/GROUP/FILTER`")]
    BadShare,
}

fn check_common(text: &str) -> Result<(), TopicError> {
    if text.is_empty() {
        return Err(TopicError::Empty);
    }
    if text.len() > 65_535 {
        return Err(TopicError::TooLong);
    }
    if text.contains('\0') {
        return Err(TopicError::Nul);
    }
    if text.chars().any(char::is_control) {
        return Err(TopicError::ControlChar);
    }
    Ok(())
}

/// Checks a topic name used to publish.
pub fn validate_topic_name(topic: &str) -> Result<(), TopicError> {
    check_common(topic)?;
    if topic.contains(['+', '#']) {
        return Err(TopicError::WildcardInName);
    }
    Ok(())
}

/// Checks a subscription filter, including shared subscriptions.
pub fn validate_filter(filter: &str) -> Result<(), TopicError> {
    check_common(filter)?;
    let inner = match filter.strip_prefix("$share/") {
        Some(rest) => match rest.split_once('/') {
            Some((group, f)) if !group.is_empty() && !group.contains(['+', '#']) && !f.is_empty() => f,
            _ => return Err(TopicError::BadShare),
        },
        None => filter,
    };
    let levels: Vec<&str> = inner.split('/').collect();
    let last = levels.len() - 1;
    for (i, level) in levels.iter().enumerate() {
        if level.contains('#') && (*level != "#" || i != last) {
            return Err(TopicError::MisplacedHash);
        }
        if level.contains('+') && *level != "+" {
            return Err(TopicError::MisplacedPlus);
        }
    }
    Ok(())
}

/// Whether `topic` matches `filter` (wildcards `+` and `#`; `$` topics are not matched by a
/// leading wildcard, as the specification requires).
pub fn matches(filter: &str, topic: &str) -> bool {
    let filter = match filter.strip_prefix("$share/") {
        Some(rest) => rest.split_once('/').map_or(rest, |(_, f)| f),
        None => filter,
    };
    if topic.starts_with('$') && (filter.starts_with('+') || filter.starts_with('#')) {
        return false;
    }
    let mut f = filter.split('/');
    let mut t = topic.split('/');
    loop {
        match (f.next(), t.next()) {
            (Some("#"), _) => return true,
            (Some("+"), Some(_)) => {}
            (Some(a), Some(b)) if a == b => {}
            (None, None) => return true,
            _ => return false,
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn filters() {
        for ok in [
            "#",
            "+",
            "a/#",
            "a/+/c",
            "/",
            "+/+",
            "$SYS/#",
            "$share/g/a/#",
            "a//b",
        ] {
            assert_eq!(validate_filter(ok), Ok(()), "{ok}");
        }
        assert_eq!(validate_filter(""), Err(TopicError::Empty));
        assert_eq!(validate_filter("a/#/b"), Err(TopicError::MisplacedHash));
        assert_eq!(validate_filter("a#"), Err(TopicError::MisplacedHash));
        assert_eq!(validate_filter("a/b+"), Err(TopicError::MisplacedPlus));
        assert_eq!(validate_filter("$share/g"), Err(TopicError::BadShare));
        assert_eq!(validate_filter("a\0b"), Err(TopicError::Nul));
    }

    #[test]
    fn names() {
        assert_eq!(validate_topic_name("a/b"), Ok(()));
        assert_eq!(validate_topic_name("a/+"), Err(TopicError::WildcardInName));
        assert_eq!(validate_topic_name(""), Err(TopicError::Empty));
        for bad in ["a/#/b", "#", "+", "a+", "b#"] {
            assert_eq!(validate_topic_name(bad), Err(TopicError::WildcardInName), "{bad}");
        }
    }

    #[test]
    fn nul_control_characters_and_length_are_refused_in_names_and_filters() {
        for check in [validate_topic_name, validate_filter] {
            assert_eq!(check("a\0b"), Err(TopicError::Nul));
            for bad in ["a\tb", "a\nb", "a\u{1}", "x\u{7f}", "x\u{9f}"] {
                assert_eq!(check(bad), Err(TopicError::ControlChar), "{bad:?}");
            }
            assert_eq!(check(&"a".repeat(65_535)), Ok(()));
            assert_eq!(check(&"a".repeat(65_536)), Err(TopicError::TooLong));
            assert_eq!(check("température/°C"), Ok(()));
        }
    }

    #[test]
    fn matching() {
        assert!(matches("#", "a/b"));
        assert!(matches("a/#", "a"));
        assert!(matches("a/+/c", "a/b/c"));
        assert!(!matches("a/+/c", "a/b/d"));
        assert!(!matches("#", "$SYS/x"));
        assert!(matches("$SYS/#", "$SYS/broker/uptime"));
        assert!(matches("$share/g/a/+", "a/x"));
        assert!(!matches("a/b", "a/b/c"));
    }
}
