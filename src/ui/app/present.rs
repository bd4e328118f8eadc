//! Presentation mode in the app: entering and leaving it (F11, Esc, the buttons), the frame
//! drawn while presenting, and saving a connection's presentation (tiles, redaction) in its
//! profile.

use egui::{Key, Modifiers, Ui, ViewportCommand};

use super::CanopyApp;
use crate::model::present::Presentation;
use crate::ui::i18n::tr;
use crate::ui::notices::Level;

impl CanopyApp {
    /// F11 toggles presentation mode, Esc leaves it (unless a menu, a field or a dialog
    /// wants it); then, while presenting, draws the frame. Returns whether it did.
    pub(super) fn presentation_frame(&mut self, ui: &mut Ui) -> bool {
        let ctx = ui.ctx().clone();
        if ctx.input_mut(|i| i.consume_key(Modifiers::NONE, Key::F11)) {
            self.present(!self.present.on);
        }
        if self.present.on
            && self.dialog.is_none()
            && !ctx.egui_wants_keyboard_input()
            && !egui::Popup::is_any_open(&ctx)
            && ctx.input_mut(|i| i.consume_key(Modifiers::NONE, Key::Escape))
        {
            self.present(false);
        }
        if !self.present.on {
            return false;
        }
        let mut actions = Vec::new();
        let tab = self.tabs.get_mut(self.active);
        crate::ui::present::presentation_ui(ui, &mut self.present, tab, &mut actions);
        self.finish_frame(&ctx, actions);
        true
    }

    /// Enters or leaves presentation mode: full screen while presenting.
    pub(super) fn present(&mut self, on: bool) {
        if self.present.on == on {
            return;
        }
        self.present.on = on;
        self.ctx.send_viewport_cmd(ViewportCommand::Fullscreen(on));
        self.ctx.request_repaint();
    }

    /// Saves the active connection's presentation in its profile and applies its redaction
    /// to every tab of that profile at once.
    pub(super) fn set_presentation(&mut self, presentation: Presentation) {
        let Some(id) = self.tabs.get(self.active).map(|t| t.profile.id.clone()) else {
            return;
        };
        for tab in self.tabs.iter_mut().filter(|t| t.profile.id == id) {
            tab.redactor = presentation.redactor();
            // The message view's text was rendered through the old rules.
            tab.render_cache = None;
            tab.profile.presentation = presentation.clone();
        }
        self.present.forget_histories();
        match self.profiles.file.profiles.iter_mut().find(|p| p.id == id) {
            Some(saved) => {
                saved.presentation = presentation;
                self.profiles.dirty = true;
            }
            // A connection opened from a recording or a removed profile: shown, not saved.
            None => self
                .notices
                .push(Level::Info, tr!("app_present.unsaved").into_owned()),
        }
    }
}
