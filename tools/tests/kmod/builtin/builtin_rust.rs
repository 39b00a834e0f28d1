// SPDX-License-Identifier: GPL-2.0

//! A Rust module that registers a xenstore watch for good. It must not compile: a watch is never
//! unregistered, so after `rmmod` xenbus would call freed code; `Watch::register` asks for a
//! `BuiltIn`, and `kernel::built_in!()` does not compile in a module.

use kernel::{c_str, prelude::*, xen::xenbus::Watch};

module! {
    type: BuiltinRust,
    name: "builtin_rust",
    license: "GPL",
}

fn changed() {}

static WATCH: Watch = Watch::new(c_str!("memory/target"), changed);

struct BuiltinRust;

impl kernel::Module for BuiltinRust {
    fn init(_module: &'static ThisModule) -> Result<Self> {
        WATCH.register(kernel::built_in!())?;
        Ok(BuiltinRust)
    }
}
