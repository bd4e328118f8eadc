//! The desktop window (egui): one file per panel, the app in [`app`].

pub mod action;
pub mod app;
pub mod broker_stats;
pub mod charts;
pub mod dialogs;
pub mod fonts;
pub mod i18n;
pub mod json_tree;
pub mod message;
pub mod notices;
pub mod present;
pub mod profiles;
pub mod proto;
pub mod publish;
pub mod report_card;
pub mod search;
pub mod status_bar;
pub mod subscriptions;
pub mod tab;
pub mod templates;
pub mod timeline;
pub mod tree;
pub mod widgets;

use std::process::ExitCode;

pub use app::{AppConfig, CanopyApp};

/// The application icon, decoded from the PNG built into the binary (`assets/icons`).
fn window_icon() -> Option<egui::IconData> {
    let png = include_bytes!("../../assets/icons/canopy-256.png");
    let image = image::load_from_memory_with_format(png, image::ImageFormat::Png)
        .ok()?
        .into_rgba8();
    Some(egui::IconData {
        width: image.width(),
        height: image.height(),
        rgba: image.into_raw(),
    })
}

/// The window's title in the current locale.
pub fn window_title() -> std::borrow::Cow<'static, str> {
    i18n::tr!("app.title")
}

/// Opens the explorer window and runs until it is closed.
pub fn run() -> ExitCode {
    let config = match AppConfig::from_platform() {
        Ok(c) => c,
        Err(e) => {
            eprintln!("canopy: {e}");
            return ExitCode::from(1);
        }
    };
    // The saved language is read with the window's state, after the window opens: the title
    // starts in the system's language and follows the setting from the first frame.
    i18n::set_locale(i18n::Language::System.resolve());
    let mut viewport = egui::ViewportBuilder::default()
        .with_title(window_title())
        // The WM class / Wayland app id the desktop entry names (StartupWMClass=canopy).
        .with_app_id("canopy");
    if let Some(icon) = window_icon() {
        viewport = viewport.with_icon(icon);
    }
    let options = eframe::NativeOptions {
        viewport: viewport
            .with_inner_size([1440.0, 900.0])
            .with_min_inner_size([900.0, 560.0]),
        ..eframe::NativeOptions::default()
    };
    match eframe::run_native(
        "canopy",
        options,
        Box::new(move |cc| Ok(Box::new(CanopyApp::new(cc, config)?))),
    ) {
        Ok(()) => ExitCode::SUCCESS,
        Err(e) => {
            eprintln!("canopy: the window could not be opened: {e}");
            ExitCode::from(1)
        }
    }
}
