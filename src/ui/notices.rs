//! Notices: what the window tells the user, with a level. Each is logged when it is raised;
//! the newest few float as toasts in a corner, so they never shift the panels, and older ones
//! drop off (the log keeps them all).

use std::collections::VecDeque;

use crate::ui::i18n::tr;
use egui::{Color32, RichText, Ui};

/// How many notices are kept (and shown) at once.
pub const SHOWN: usize = 3;

/// How much a notice matters; sets its colour and its log level.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Level {
    /// Something finished (saved, exported, replayed).
    Info,
    /// Something did not happen but nothing is lost (a busy job, a partial result).
    Warning,
    /// Something failed (a connection, a write).
    Error,
}

impl Level {
    fn icon(self) -> &'static str {
        match self {
            Level::Info => "ℹ",
            Level::Warning => "⚠",
            Level::Error => "⛔",
        }
    }

    fn color(self, ui: &Ui) -> Color32 {
        match self {
            Level::Info => ui.visuals().text_color(),
            Level::Warning => ui.visuals().warn_fg_color,
            Level::Error => ui.visuals().error_fg_color,
        }
    }
}

/// Identifies a notice while it is shown (positions change as notices come and go).
pub type NoticeId = u64;

/// One notice.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Notice {
    /// Stable while shown; what a dismiss names.
    pub id: NoticeId,
    /// How much it matters.
    pub level: Level,
    /// The words shown.
    pub text: String,
    /// How many times in a row the same notice was raised (a flapping connection says the
    /// same thing every few seconds; it is counted, not repeated).
    pub repeats: u32,
}

/// The notices being shown, oldest first, at most [`SHOWN`].
#[derive(Debug, Default)]
pub struct Notices {
    list: VecDeque<Notice>,
    next_id: NoticeId,
}

impl Notices {
    /// Logs a notice and shows it, dropping the oldest past [`SHOWN`].
    pub fn push(&mut self, level: Level, text: String) {
        match level {
            Level::Info => log::info!(target: "canopy::notice", "{text}"),
            Level::Warning => log::warn!(target: "canopy::notice", "{text}"),
            Level::Error => log::error!(target: "canopy::notice", "{text}"),
        }
        if let Some(last) = self.list.back_mut()
            && last.level == level
            && last.text == text
        {
            last.repeats += 1;
            return;
        }
        self.next_id += 1;
        self.list.push_back(Notice {
            id: self.next_id,
            level,
            text,
            repeats: 1,
        });
        while self.list.len() > SHOWN {
            self.list.pop_front();
        }
    }

    /// Removes a notice (nothing happens when it is already gone).
    pub fn dismiss(&mut self, id: NoticeId) {
        self.list.retain(|n| n.id != id);
    }

    /// The notices shown, oldest first.
    pub fn iter(&self) -> impl Iterator<Item = &Notice> {
        self.list.iter()
    }

    /// Whether there is nothing to show.
    pub fn is_empty(&self) -> bool {
        self.list.is_empty()
    }
}

/// Draws one notice; returns whether its dismiss button was clicked.
pub fn notice_ui(ui: &mut Ui, notice: &Notice) -> bool {
    let mut dismissed = false;
    ui.horizontal(|ui| {
        let color = notice.level.color(ui);
        let mut text = format!("{} {}", notice.level.icon(), notice.text);
        if notice.repeats > 1 {
            text.push_str(&format!(" (×{})", notice.repeats));
        }
        ui.add(egui::Label::new(RichText::new(text).color(color)).wrap());
        dismissed = ui
            .small_button("✖")
            .on_hover_text(tr!("notices_ui.dismiss"))
            .clicked();
    });
    dismissed
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn only_the_newest_are_kept_and_repeats_are_counted() {
        let mut n = Notices::default();
        for i in 0..5 {
            n.push(Level::Info, format!("n{i}"));
        }
        n.push(Level::Error, "n4".into());
        n.push(Level::Error, "n4".into());
        let shown: Vec<(&str, u32)> = n.iter().map(|n| (n.text.as_str(), n.repeats)).collect();
        assert_eq!(shown, [("n3", 1), ("n4", 1), ("n4", 2)]);
        let first = n.iter().next().map(|n| n.id).unwrap();
        n.dismiss(first);
        assert_eq!(n.iter().count(), 2);
    }
}
