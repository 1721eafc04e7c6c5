//! Entity ids: `u32` newtypes that index the arenas of a [`Function`](crate::ir::Function) or
//! [`Module`](crate::ir::Module).
//!
//! Ids are plain `Copy` numbers, never references, so passes can hold many of them while
//! rebuilding a function. `Display` prints them as the text form spells them (`%3`, `^2`, `@1`);
//! the printer renumbers values canonically, so printed ids are stable across passes.
//!
//! Invariant: an id is only meaningful for the arena it was allocated in.

use core::fmt;

macro_rules! entity {
    ($(#[$doc:meta])* $name:ident, $prefix:literal) => {
        $(#[$doc])*
        #[derive(Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord)]
        pub struct $name(pub u32);

        impl $name {
            /// The arena index.
            #[inline]
            pub fn index(self) -> usize {
                self.0 as usize
            }
        }

        impl fmt::Display for $name {
            fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
                write!(f, concat!($prefix, "{}"), self.0)
            }
        }

        impl fmt::Debug for $name {
            fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
                fmt::Display::fmt(self, f)
            }
        }
    };
}

entity!(
    /// An SSA value: a function parameter, a block parameter or an instruction result.
    Value,
    "%"
);
entity!(
    /// An instruction.
    Inst,
    "inst"
);
entity!(
    /// A block (region body): parameters, instructions and the values it yields.
    Block,
    "^"
);
entity!(
    /// A function of a [`Module`](crate::ir::Module).
    FuncId,
    "@"
);
