//! What the centre of the window shows while no connection is open: the way to a live tree
//! in one click (the Local sandbox: an embedded broker with demo traffic, no network), or,
//! with no saved connection at all, the way to make one.

use egui::{RichText, Ui};

use super::ProfilesPanel;
use crate::profiles::store;
use crate::ui::action::Action;

/// Width of the welcome text, so that its lines stay short on a wide window.
const WELCOME_WIDTH: f32 = 520.0;

/// Draws the welcome in the middle of the tree's place.
pub fn welcome_ui(ui: &mut Ui, panel: &mut ProfilesPanel, actions: &mut Vec<Action>) {
    ui.add_space((ui.available_height() * 0.18).min(140.0));
    ui.vertical_centered(|ui| {
        ui.set_max_width(WELCOME_WIDTH);
        ui.label(RichText::new("No open connection").heading().strong());
        ui.add_space(6.0);
        let sandbox = panel.file.profiles.iter().position(|p| p.sandbox.is_some());
        if panel.file.profiles.is_empty() {
            ui.label("There is no saved connection yet.");
        } else {
            ui.label("Pick a saved connection on the left and press ▶ Connect (or double-click it).");
        }
        ui.add_space(14.0);
        ui.label(
            RichText::new(
                "New to Canopy? It has a broker built in, with live demo traffic from a factory and a \
                 smart home: nothing to install, no network needed.",
            )
            .weak(),
        );
        ui.add_space(6.0);
        match sandbox {
            Some(i) => {
                let start = egui::Button::new(RichText::new("▶ Start the built-in sandbox").strong())
                    .min_size(egui::vec2(240.0, 34.0));
                if ui.add(start).clicked()
                    && let Some(p) = panel.file.profiles.get(i).cloned()
                {
                    panel.selected = Some(i);
                    panel.editor_open = false;
                    actions.push(Action::Connect(Box::new(p)));
                }
            }
            None => {
                if ui.button("Add the built-in sandbox").clicked()
                    && let Some(p) = store::first_run_profiles()
                        .into_iter()
                        .find(|p| p.sandbox.is_some())
                {
                    panel.add(p);
                    panel.editor_open = false;
                }
            }
        }
        if panel.file.profiles.is_empty() {
            ui.add_space(14.0);
            if ui.button("➕ New connection").clicked() {
                panel.add(crate::profiles::Profile::default());
            }
        }
    });
}
