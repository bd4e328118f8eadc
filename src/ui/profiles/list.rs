//! The list of saved connections: one compact row per profile (name, and where it connects
//! in small text below), grouped, with the actions of the selected one above the list and
//! import / export below it.

use egui::{Color32, RichText, Sense, TextStyle, TextWrapMode, Ui, WidgetText};

use super::ProfilesPanel;
use crate::engine::ConnectionId;
use crate::profiles::profile::{Profile, random_client_id, random_profile_id};
use crate::ui::action::Action;
use crate::ui::i18n::tr;
use crate::ui::widgets;

/// A search field appears above lists longer than this.
const SEARCH_FROM: usize = 5;
/// Indent of the profiles of a group under its heading.
const GROUP_INDENT: f32 = 12.0;
/// Space left and right of a row's text inside its highlight.
const ROW_PADDING: f32 = 6.0;
/// Size of the line saying where a profile connects, in points: smaller than the name, yet
/// readable on a projector (egui's small text, 9 pt, was not).
const TARGET_SIZE: f32 = 11.5;
/// The dot beside a profile whose connection is open.
const OPEN_DOT: Color32 = Color32::from_rgb(80, 190, 110);

/// What a row says below the name: where the profile connects.
fn target(p: &Profile) -> String {
    if p.sandbox.is_some() {
        tr!("profiles.embedded_sandbox").into_owned()
    } else {
        p.url()
    }
}

/// Draws the list column. `open_tabs` lists, by profile name, the connection of each open
/// tab (a profile with one gets a dot, and Disconnect instead of nothing).
pub fn profiles_ui(
    ui: &mut Ui,
    panel: &mut ProfilesPanel,
    read_only: bool,
    open_tabs: &[(String, ConnectionId)],
    actions: &mut Vec<Action>,
) {
    ui.horizontal(|ui| {
        ui.heading(tr!("profiles.heading"));
        ui.with_layout(egui::Layout::right_to_left(egui::Align::Center), |ui| {
            if ui.button(tr!("profiles.new")).clicked() {
                panel.add(Profile::default());
            }
        });
    });
    if read_only {
        widgets::warning(ui, tr!("profiles.read_only"));
    }
    selected_actions_ui(ui, panel, open_tabs, actions);
    confirm_delete_ui(ui, panel);
    if panel.file.profiles.len() > SEARCH_FROM {
        let l = ui.label(RichText::new(tr!("profiles.search")).weak());
        ui.add(
            egui::TextEdit::singleline(&mut panel.search)
                .hint_text(tr!("profiles.search_hint"))
                .desired_width(f32::INFINITY),
        )
        .labelled_by(l.id);
    }
    ui.add_space(2.0);
    // The list takes what the import / export row below leaves.
    let footer = ui.spacing().interact_size.y + 3.0 * ui.spacing().item_spacing.y + 2.0;
    egui::ScrollArea::vertical()
        .id_salt("profile-list")
        .max_height((ui.available_height() - footer).max(60.0))
        // Fills the column, so that import / export sit at its bottom.
        .auto_shrink([false, false])
        .show(ui, |ui| list_ui(ui, panel, open_tabs, actions));
    ui.separator();
    ui.horizontal(|ui| {
        if ui
            .button(tr!("profiles.import"))
            .on_hover_text(tr!("profiles.import_hover"))
            .clicked()
        {
            actions.push(Action::Import);
        }
        if ui.button(tr!("profiles.export")).clicked() {
            actions.push(Action::Export);
        }
    });
}

/// Connect (or Disconnect), Edit, Duplicate and Delete for the selected profile.
fn selected_actions_ui(
    ui: &mut Ui,
    panel: &mut ProfilesPanel,
    open_tabs: &[(String, ConnectionId)],
    actions: &mut Vec<Action>,
) {
    let current = panel.current().cloned();
    ui.horizontal_wrapped(|ui| {
        ui.add_enabled_ui(current.is_some(), |ui| {
            if ui
                .button(RichText::new(tr!("profiles.connect")).strong())
                .clicked()
                && let Some(p) = &current
            {
                connect(panel, p, actions);
            }
            let open_tab = current
                .as_ref()
                .and_then(|p| open_tabs.iter().find(|(n, _)| *n == p.name));
            if let Some((_, tab)) = open_tab
                && ui.button(tr!("profiles.disconnect")).clicked()
            {
                actions.push(Action::Disconnect(*tab));
            }
            if ui
                .add(egui::Button::new(tr!("profiles.edit")).selected(panel.editor_open))
                .on_hover_text(tr!("profiles.edit_hover"))
                .clicked()
            {
                panel.editor_open = !panel.editor_open;
            }
            if widgets::icon_button(ui, "🗐", &tr!("profiles.duplicate")).clicked()
                && let Some(mut copy) = current.clone()
            {
                copy.client_id = random_client_id();
                copy.id = random_profile_id();
                panel.add(copy);
            }
            if widgets::icon_button(ui, "🗑", &tr!("profiles.delete_this")).clicked() {
                panel.confirm_delete = panel.selected;
            }
        });
    });
}

/// Connects `p`; the editor closes so that the tree gets the width.
fn connect(panel: &mut ProfilesPanel, p: &Profile, actions: &mut Vec<Action>) {
    panel.editor_open = false;
    actions.push(Action::Connect(Box::new(p.clone())));
}

/// The confirmation of a delete, in place of nothing.
fn confirm_delete_ui(ui: &mut Ui, panel: &mut ProfilesPanel) {
    let Some(i) = panel.confirm_delete else {
        return;
    };
    let name = panel
        .file
        .profiles
        .get(i)
        .map(|p| p.name.clone())
        .unwrap_or_default();
    egui::Frame::group(ui.style()).show(ui, |ui| {
        ui.label(tr!("profiles.confirm_delete", name = name));
        ui.horizontal(|ui| {
            if ui.button(tr!("profiles.delete")).clicked() {
                if i < panel.file.profiles.len() {
                    panel.file.profiles.remove(i);
                    panel.dirty = true;
                }
                panel.selected = None;
                panel.editor_open = false;
                panel.confirm_delete = None;
            }
            if ui.button(tr!("profiles.cancel")).clicked() {
                panel.confirm_delete = None;
            }
        });
    });
}

/// The profiles matching the search, by group (alphabetical, ungrouped first) then name.
fn ordered(panel: &ProfilesPanel) -> Vec<usize> {
    let needle = panel.search.to_lowercase();
    let mut order: Vec<usize> = (0..panel.file.profiles.len())
        .filter(|i| {
            let p = &panel.file.profiles[*i];
            needle.is_empty()
                || p.name.to_lowercase().contains(&needle)
                || p.host.to_lowercase().contains(&needle)
                || p.group.to_lowercase().contains(&needle)
        })
        .collect();
    order.sort_by_key(|i| {
        let p = &panel.file.profiles[*i];
        (p.group.to_lowercase(), p.name.to_lowercase())
    });
    order
}

fn list_ui(
    ui: &mut Ui,
    panel: &mut ProfilesPanel,
    open_tabs: &[(String, ConnectionId)],
    actions: &mut Vec<Action>,
) {
    if panel.file.profiles.is_empty() {
        ui.label(RichText::new(tr!("profiles.empty")).weak());
        return;
    }
    let order = ordered(panel);
    if order.is_empty() {
        ui.label(RichText::new(tr!("profiles.no_match")).weak());
    }
    let mut current_group: Option<String> = None;
    for i in order {
        let p = &panel.file.profiles[i];
        if current_group.as_deref() != Some(p.group.as_str()) {
            current_group = Some(p.group.clone());
            if !p.group.is_empty() {
                ui.add_space(4.0);
                ui.label(RichText::new(format!("📁 {}", p.group)).strong());
            }
        }
        let indent = if p.group.is_empty() { 0.0 } else { GROUP_INDENT };
        let open = open_tabs.iter().any(|(n, _)| *n == p.name);
        let response = ui
            .horizontal(|ui| {
                ui.add_space(indent);
                row_ui(ui, p, panel.selected == Some(i), open)
            })
            .inner;
        if response.clicked() {
            panel.selected = Some(i);
            panel.url_error = None;
        }
        if response.double_clicked()
            && let Some(p) = panel.file.profiles.get(i).cloned()
        {
            connect(panel, &p, actions);
        }
    }
}

/// One profile: its name, and below it in small text where it connects; both cut with an
/// ellipsis to the column (the whole of both on hover). Screen readers and tests know the row
/// as "name  ·  target".
fn row_ui(ui: &mut Ui, p: &Profile, selected: bool, open: bool) -> egui::Response {
    let width = ui.available_width();
    let text_width = (width - 2.0 * ROW_PADDING - if open { 14.0 } else { 0.0 }).max(20.0);
    let name = WidgetText::from(RichText::new(&p.name).strong()).into_galley(
        ui,
        Some(TextWrapMode::Truncate),
        text_width,
        TextStyle::Body,
    );
    let target_text = target(p);
    let below = WidgetText::from(RichText::new(&target_text).size(TARGET_SIZE)).into_galley(
        ui,
        Some(TextWrapMode::Truncate),
        text_width,
        TextStyle::Body,
    );
    let height = name.size().y + below.size().y + 6.0;
    let (rect, response) = ui.allocate_exact_size(egui::vec2(width, height), Sense::click());
    let label = format!("{}  ·  {}", p.name, target_text);
    response.widget_info(|| egui::WidgetInfo::selected(egui::Role::Button, true, selected, &label));
    if ui.is_rect_visible(rect) {
        let visuals = ui.style().interact_selectable(&response, selected);
        if selected || response.hovered() {
            ui.painter()
                .rect_filled(rect, visuals.corner_radius, visuals.weak_bg_fill);
        }
        let text_color = visuals.text_color();
        let top = rect.left_top() + egui::vec2(ROW_PADDING, 3.0);
        ui.painter().galley(top, name, text_color);
        let second = top + egui::vec2(0.0, height - 6.0 - below.size().y);
        ui.painter()
            .galley(second, below, text_color.gamma_multiply(0.75));
        if open {
            let centre = egui::pos2(rect.right() - ROW_PADDING - 4.0, rect.center().y);
            ui.painter().circle_filled(centre, 4.0, OPEN_DOT);
        }
    }
    let hover = if open {
        format!("{label}\n{}", tr!("profiles.row_open_hover"))
    } else {
        format!("{label}\n{}", tr!("profiles.row_hover"))
    };
    response.on_hover_text(hover)
}
