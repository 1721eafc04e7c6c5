//! ferrad-ir: the AD compiler (work in progress).
