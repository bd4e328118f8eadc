//! The window's language: the choice saved in the settings ([`Language`]), the locale it
//! resolves to ([`Locale`]), and `tr!`, the one call every user-visible string goes through.
//!
//! Texts live in `locales/en.toml` and `locales/zh-CN.toml`, embedded at compile time by
//! `rust-i18n` (`rust_i18n::i18n!` in `lib.rs`); a key missing in Chinese falls back to English.
//! To translate a new string: write `tr!` with a `panel.what` key (and `n = count` arguments for
//! `%{n}` in the text) and add the key to both files; `tests/ui/i18n.rs` fails until both have it.
//!
//! Why the locale is per thread: the window draws on one thread and sets the locale at the
//! start of every frame from its own setting, so two windows in one process (the tests run
//! many in parallel) never see each other's language. A thread that never sets one (a
//! background job, a unit test) gets English: words for the user are made on the UI thread.

use std::cell::Cell;

/// The language chosen in Settings, saved with the window's state.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default, serde::Serialize, serde::Deserialize)]
pub enum Language {
    /// Follow the operating system's locale (English unless it is Chinese).
    #[default]
    System,
    /// English.
    English,
    /// Simplified Chinese (简体中文).
    SimplifiedChinese,
}

impl Language {
    /// Every choice, in the order the settings list them.
    pub const ALL: [Language; 3] = [Language::System, Language::English, Language::SimplifiedChinese];

    /// The locale this choice means on this machine now.
    pub fn resolve(self) -> Locale {
        match self {
            Language::System => sys_locale::get_locale()
                .as_deref()
                .map_or(Locale::En, Locale::from_tag),
            Language::English => Locale::En,
            Language::SimplifiedChinese => Locale::ZhCn,
        }
    }
}

/// A locale the window has texts for.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Locale {
    /// English, the source language.
    En,
    /// Simplified Chinese.
    ZhCn,
}

impl Locale {
    /// The name of the locale file (`locales/<code>.toml`).
    pub fn code(self) -> &'static str {
        match self {
            Locale::En => "en",
            Locale::ZhCn => "zh-CN",
        }
    }

    /// The locale for an OS language tag (`zh-CN`, `zh_CN.UTF-8`, `zh-Hans-SG`, `en-US`…):
    /// any Chinese gets Simplified Chinese, since it is the only Chinese the window has, and
    /// everything else English.
    pub fn from_tag(tag: &str) -> Locale {
        let language = tag.split(['-', '_', '.', '@']).next().unwrap_or_default();
        if language.eq_ignore_ascii_case("zh") {
            Locale::ZhCn
        } else {
            Locale::En
        }
    }
}

thread_local! {
    static THREAD_LOCALE: Cell<Locale> = const { Cell::new(Locale::En) };
}

/// Makes `locale` the language of this thread's texts.
pub fn set_locale(locale: Locale) {
    THREAD_LOCALE.with(|l| l.set(locale));
}

/// The locale texts are looked up in on this thread.
pub fn locale() -> Locale {
    THREAD_LOCALE.with(Cell::get)
}

/// The code of [`locale`], for `rust_i18n::t!`.
pub fn locale_code() -> &'static str {
    locale().code()
}

/// The text of `key` in the current locale (a `Cow<'static, str>`, which egui takes as a
/// label). Arguments fill `%{name}` placeholders: `tr!("status.topics", n = 12)`.
macro_rules! tr {
    ($key:literal) => {
        rust_i18n::t!($key, locale = $crate::ui::i18n::locale_code())
    };
    ($key:literal, $($args:tt)+) => {
        rust_i18n::t!($key, locale = $crate::ui::i18n::locale_code(), $($args)+)
    };
}
pub(crate) use tr;

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn os_tags_map_to_a_locale() {
        for tag in [
            "zh-CN",
            "zh_CN.UTF-8",
            "zh-Hans-SG",
            "zh",
            "ZH-tw",
            "zh_TW@radical",
        ] {
            assert_eq!(Locale::from_tag(tag), Locale::ZhCn, "{tag}");
        }
        for tag in ["en-US", "C", "POSIX", "de_DE.UTF-8", "", "zha", "ja-JP"] {
            assert_eq!(Locale::from_tag(tag), Locale::En, "{tag}");
        }
    }

    #[test]
    fn a_thread_keeps_its_own_locale() {
        set_locale(Locale::ZhCn);
        assert_eq!(tr!("settings.language"), "语言");
        let other = std::thread::spawn(|| {
            set_locale(Locale::En);
            tr!("settings.language").into_owned()
        });
        assert_eq!(other.join().ok().as_deref(), Some("Language"));
        assert_eq!(
            locale(),
            Locale::ZhCn,
            "another thread's choice leaked into this one"
        );
        let fresh = std::thread::spawn(|| tr!("settings.language").into_owned());
        assert_eq!(
            fresh.join().ok().as_deref(),
            Some("Language"),
            "English by default"
        );
    }
}
