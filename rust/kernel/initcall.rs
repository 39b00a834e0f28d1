// SPDX-License-Identifier: GPL-2.0

//! Initcalls of built-in code at a chosen level.
//!
//! C header: [`include/linux/init.h`](srctree/include/linux/init.h)
//!
//! `module!` runs a built-in driver at `device_initcall` time. Code that other subsystems rely
//! on earlier (a `subsys_initcall`), or that must run after every other initcall (a
//! `late_initcall_sync`), uses [`initcall!`](macro@crate::initcall) instead.

/// Registers `fn() -> Result` as an initcall of the given level.
///
/// The level is the suffix of the section name: `"4"` for `subsys_initcall`, `"6"` for
/// `device_initcall`, `"7s"` for `late_initcall_sync`. `$name` is the symbol of the generated
/// entry point and must be unique in the kernel.
///
/// The generated entry point is `__init`: it lives in `.init.text`, which is freed after boot. It
/// is therefore an `unsafe` function that Rust code cannot name (it is declared inside an
/// anonymous constant), so only the initcall machinery calls it, once, during boot. `$body` is
/// an ordinary function that any code may call at any time, so it must not be placed in
/// `.init.text` nor use boot-time data itself.
///
/// # Examples
///
/// ```ignore
/// fn my_init() -> Result {
///     Ok(())
/// }
/// kernel::initcall!("4", __my_subsys_init => my_init);
/// ```
#[macro_export]
macro_rules! initcall {
    ($level:literal, $name:ident => $body:path) => {
        const _: () = {
            /// The entry point the initcall section refers to.
            ///
            /// # Safety
            ///
            /// Only the initcall machinery calls this, during boot, while `.init.text` exists.
            #[no_mangle]
            #[link_section = ".init.text"]
            unsafe extern "C" fn $name() -> $crate::ffi::c_int {
                let ret: $crate::error::Result = $body();
                match ret {
                    Ok(()) => 0,
                    Err(e) => e.to_errno(),
                }
            }

            #[cfg(not(CONFIG_HAVE_ARCH_PREL32_RELOCATIONS))]
            #[link_section = concat!(".initcall", $level, ".init")]
            #[used]
            static INITCALL: unsafe extern "C" fn() -> $crate::ffi::c_int = $name;
        };

        // The entry point is found by its (unmangled) symbol name.
        #[cfg(CONFIG_HAVE_ARCH_PREL32_RELOCATIONS)]
        ::core::arch::global_asm!(concat!(
            ".section \".initcall",
            $level,
            ".init\", \"a\"\n",
            "__",
            stringify!($name),
            "_initcall:\n",
            "\t.long ",
            stringify!($name),
            " - .\n",
            ".previous\n"
        ));
    };
}
