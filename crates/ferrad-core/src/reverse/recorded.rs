//! Recorded tapes: tape a function once, replay its gradient on new inputs without running the
//! user's code again (ReverseDiff's compiled tape, ADOL-C's retaping-free evaluation).
//!
//! Replay recomputes every value and partial from the recorded ops (through the same rule table),
//! then sweeps. Unlike ReverseDiff it guards control flow: every comparison made on a `Var` while
//! recording is re-evaluated on replay, and a different outcome returns
//! [`Error::ControlFlowChanged`] instead of a gradient of the wrong branch.
//!
//! Invariant: a recorded tape holds one control-flow path; replay checks it, and returns a
//! result only when the new input takes the same path.
//!
//! Limits: control flow decided on plain numbers read out of a `Var` (`x.value() > 0.0`,
//! `x.to_i64()`) cannot be seen and is not guarded; compare the `Var`s themselves. Custom rules
//! cannot be replayed (their Jacobian is a recorded constant), so recording them is an error.

use std::path::Path;

use super::replay::Program;
use super::tape::{Guard, GuardKind, Node, OpCode, OpRec, Tape};
use super::var::Var;
use crate::api::{ScalarFn, VectorFn};
use crate::error::Error;
use crate::rules::{Binary, Step, Unary};

/// A function taped once, replayable on new inputs.
///
/// ```
/// use ferrad_core::prelude::*;
/// use ferrad_core::reverse::RecordedTape;
/// fn f<T: Real>(x: &[T]) -> T {
///     if x[0] > x[1] { x[0] * x[1].sin() } else { x[1].exp() }
/// }
/// let mut tape = RecordedTape::record(&ferrad_core::scalar_fn!(f), &[2.0, 1.0]).unwrap();
/// let (y, g) = tape.gradient(&[3.0, 0.5]).unwrap();       // same branch: replayed
/// assert_eq!(y, 3.0 * 0.5_f64.sin());
/// assert_eq!(g, vec![0.5_f64.sin(), 3.0 * 0.5_f64.cos()]);
/// let err = tape.gradient(&[0.0, 1.0]).unwrap_err();       // other branch: refused
/// assert!(matches!(err, ferrad_core::Error::ControlFlowChanged { .. }));
/// ```
#[derive(Clone, Debug)]
pub struct RecordedTape {
    n_inputs: usize,
    /// Output slots (0 = a constant output, whose value is in `output_consts`).
    outputs: Vec<u32>,
    output_consts: Vec<f64>,
    nodes: Vec<Node<f64>>,
    ops: Vec<OpRec<f64>>,
    guards: Vec<Guard<f64>>,
    /// `ops` with operand kinds resolved and loops re-rolled: what replay executes.
    program: Program,
    values: Vec<f64>,
    /// Partials of the re-rolled loops (those of straight runs are on the nodes).
    partials: Vec<f64>,
    adj: Vec<f64>,
}

impl RecordedTape {
    /// Records `f` at `x`.
    ///
    /// # Errors
    /// [`Error::NotReplayable`] if `f` applies a custom rule.
    pub fn record(f: &impl ScalarFn, x: &[f64]) -> Result<Self, Error> {
        Self::record_with(x, |xs| vec![f.eval(xs)])
    }

    /// Records a vector function `f` at `x` (for replayed Jacobians).
    ///
    /// # Errors
    /// [`Error::NotReplayable`] if `f` applies a custom rule.
    pub fn record_vector(f: &impl VectorFn, x: &[f64]) -> Result<Self, Error> {
        Self::record_with(x, |xs| f.eval(xs))
    }

    fn record_with(
        x: &[f64],
        run: impl FnOnce(&[Var<f64>]) -> Vec<Var<f64>>,
    ) -> Result<Self, Error> {
        let tape = Tape::<f64>::new_instrumented(false);
        let xs = tape.vars(x);
        let ys = run(&xs);
        let (nodes, inst) = tape.take_recording();
        if let Some(name) = inst.custom_rule {
            return Err(Error::NotReplayable(format!(
                "custom rule `{name}` was applied; its Jacobian is only known at the recorded input"
            )));
        }
        let outputs: Vec<u32> = ys.iter().map(|y| y.index()).collect();
        let program = Program::new(&inst.ops, &external_reads(&outputs, &inst.guards));
        Ok(RecordedTape {
            n_inputs: x.len(),
            outputs,
            output_consts: ys.iter().map(|y| y.val()).collect(),
            nodes,
            partials: vec![0.0; program.n_partials()],
            values: vec![0.0; program.n_values()],
            adj: vec![0.0; program.n_values()],
            program,
            ops: inst.ops,
            guards: inst.guards,
        })
    }

    /// Number of inputs.
    pub fn n_inputs(&self) -> usize {
        self.n_inputs
    }

    /// Number of outputs.
    pub fn n_outputs(&self) -> usize {
        self.outputs.len()
    }

    /// Number of recorded entries (inputs and operations).
    pub fn len(&self) -> usize {
        self.nodes.len() - 1
    }

    /// Whether nothing was recorded.
    pub fn is_empty(&self) -> bool {
        self.len() == 0
    }

    /// How many entries replay runs inside re-rolled loops (the rest run one by one): a tape of
    /// a loop is its body repeated, and replay finds that repetition (see the module docs).
    pub fn looped_len(&self) -> usize {
        self.program.looped()
    }

    /// Number of guarded comparisons.
    pub fn n_guards(&self) -> usize {
        self.guards.len()
    }

    /// Replays values and partials at `x` and checks the guards; returns the outputs.
    ///
    /// # Errors
    /// [`Error::Shape`] if `x` has the wrong length; [`Error::ControlFlowChanged`] if a recorded
    /// comparison comes out differently at `x`.
    pub fn forward(&mut self, x: &[f64]) -> Result<Vec<f64>, Error> {
        if x.len() != self.n_inputs {
            return Err(Error::Shape {
                what: "recorded tape input".into(),
                expected: self.n_inputs,
                got: x.len(),
            });
        }
        self.program.forward(
            x,
            &self.ops,
            &mut self.values,
            &mut self.nodes,
            &mut self.partials,
        );
        let values = &self.values;
        for (k, g) in self.guards.iter().enumerate() {
            let a = if g.lhs == 0 {
                g.consts[0]
            } else {
                values[g.lhs as usize]
            };
            let b = if g.rhs == 0 {
                g.consts[1]
            } else {
                values[g.rhs as usize]
            };
            let now = g.kind.outcome(a, b);
            if now != g.outcome {
                let side = |s: u32, v: f64| {
                    if s == 0 {
                        format!("{v}")
                    } else {
                        format!("%{s} (= {v})")
                    }
                };
                return Err(Error::ControlFlowChanged {
                    at: k,
                    what: format!(
                        "comparison #{k}: {} {} {} was {} when recorded, {} now",
                        side(g.lhs, a),
                        g.kind.symbol(),
                        side(g.rhs, b),
                        outcome_text(g.kind, g.outcome),
                        outcome_text(g.kind, now)
                    ),
                });
            }
        }
        Ok(self
            .outputs
            .iter()
            .zip(&self.output_consts)
            .map(|(&s, &c)| if s == 0 { c } else { values[s as usize] })
            .collect())
    }

    fn sweep(&mut self, seeds: &[f64]) -> Vec<f64> {
        // `adj` is all zeros here: each sweep leaves it so (see `Program::sweep`)
        for (&s, &w) in self.outputs.iter().zip(seeds) {
            if s != 0 {
                self.adj[s as usize] += w;
            }
        }
        self.program
            .sweep(&self.values, &self.nodes, &self.partials, &mut self.adj);
        let g = self.adj[1..=self.n_inputs].to_vec();
        self.adj[..=self.n_inputs].fill(0.0);
        g
    }

    /// The value and gradient at `x` of a recorded scalar function.
    ///
    /// # Errors
    /// As [`RecordedTape::forward`], and [`Error::Shape`] if the tape has several outputs.
    pub fn gradient(&mut self, x: &[f64]) -> Result<(f64, Vec<f64>), Error> {
        if self.outputs.len() != 1 {
            return Err(Error::Shape {
                what: "gradient of a recorded tape's outputs".into(),
                expected: 1,
                got: self.outputs.len(),
            });
        }
        let y = self.forward(x)?;
        Ok((y[0], self.sweep(&[1.0])))
    }

    /// The outputs and `wᵀ·J` at `x`.
    ///
    /// # Errors
    /// As [`RecordedTape::forward`], and [`Error::Shape`] if `w` has the wrong length.
    pub fn vjp(&mut self, x: &[f64], w: &[f64]) -> Result<(Vec<f64>, Vec<f64>), Error> {
        if w.len() != self.outputs.len() {
            return Err(Error::Shape {
                what: "vjp weights".into(),
                expected: self.outputs.len(),
                got: w.len(),
            });
        }
        let y = self.forward(x)?;
        Ok((y, self.sweep(w)))
    }

    /// The outputs and Jacobian (one row per output) at `x`: one replay, one sweep per output.
    ///
    /// # Errors
    /// As [`RecordedTape::forward`].
    pub fn jacobian(&mut self, x: &[f64]) -> Result<(Vec<f64>, Vec<Vec<f64>>), Error> {
        let y = self.forward(x)?;
        let m = self.outputs.len();
        let rows = (0..m)
            .map(|j| {
                let mut w = vec![0.0; m];
                w[j] = 1.0;
                self.sweep(&w)
            })
            .collect();
        Ok((y, rows))
    }

    /// The recorded ops as text, one a line (`%5 = sin %3`).
    pub fn dump(&self) -> String {
        use std::fmt::Write;
        let mut s = String::new();
        let arg = |op: &OpRec<f64>, k: usize| {
            if op.args[k] == 0 {
                format!("{:?}", op.consts[k])
            } else {
                format!("%{}", op.args[k])
            }
        };
        for (i, op) in self.ops.iter().enumerate().skip(1) {
            let _ = match op.code {
                OpCode::Input => writeln!(s, "%{i} = input {}", i - 1),
                OpCode::Unary(Unary::Powi(n)) => writeln!(s, "%{i} = powi {} {n}", arg(op, 0)),
                OpCode::Unary(_) | OpCode::Step(_) => {
                    writeln!(s, "%{i} = {} {}", op.code.name(), arg(op, 0))
                }
                OpCode::AddConst | OpCode::MulConst | OpCode::DivConst => {
                    writeln!(
                        s,
                        "%{i} = {} {} {:?}",
                        op.code.name(),
                        arg(op, 0),
                        op.consts[1]
                    )
                }
                OpCode::MulAdd => writeln!(
                    s,
                    "%{i} = mul_add {} {} {}",
                    arg(op, 0),
                    arg(op, 1),
                    arg(op, 2)
                ),
                _ => writeln!(s, "%{i} = {} {} {}", op.code.name(), arg(op, 0), arg(op, 1)),
            };
        }
        for (k, g) in self.guards.iter().enumerate() {
            let side = |slot: u32, c: f64| {
                if slot == 0 {
                    format!("{c:?}")
                } else {
                    format!("%{slot}")
                }
            };
            let _ = writeln!(
                s,
                "guard #{k}: {} {} {} is {}",
                side(g.lhs, g.consts[0]),
                g.kind.symbol(),
                side(g.rhs, g.consts[1]),
                outcome_text(g.kind, g.outcome)
            );
        }
        let outs: Vec<String> = self
            .outputs
            .iter()
            .zip(&self.output_consts)
            .map(|(&o, &c)| {
                if o == 0 {
                    format!("{c:?}")
                } else {
                    format!("%{o}")
                }
            })
            .collect();
        let _ = writeln!(s, "return {}", outs.join(", "));
        s
    }

    /// Writes the tape to `path` (see [`RecordedTape::to_bytes`]).
    ///
    /// # Errors
    /// [`Error::Io`] if the file cannot be written.
    pub fn save(&self, path: impl AsRef<Path>) -> Result<(), Error> {
        std::fs::write(path, self.to_bytes())?;
        Ok(())
    }

    /// Reads a tape written by [`RecordedTape::save`].
    ///
    /// # Errors
    /// [`Error::Io`] if the file cannot be read, [`Error::Format`] if it is not a ferrad tape of
    /// a supported version or is corrupt.
    pub fn load(path: impl AsRef<Path>) -> Result<Self, Error> {
        Self::from_bytes(&std::fs::read(path)?)
    }

    /// The versioned binary form: magic `FERRADTP`, version, counts, outputs, entries, guards,
    /// then an FNV-1a checksum of everything before it. Little-endian throughout.
    pub fn to_bytes(&self) -> Vec<u8> {
        let mut w = Vec::new();
        w.extend_from_slice(MAGIC);
        put_u32(&mut w, VERSION);
        for n in [
            self.n_inputs,
            self.nodes.len(),
            self.outputs.len(),
            self.guards.len(),
        ] {
            put_u32(&mut w, n as u32);
        }
        for (&o, &c) in self.outputs.iter().zip(&self.output_consts) {
            put_u32(&mut w, o);
            put_f64(&mut w, c);
        }
        for (n, op) in self.nodes.iter().zip(&self.ops).skip(1) {
            let (code, sub) = encode_op(op.code);
            w.push(code);
            put_u32(&mut w, sub);
            for a in op.args {
                put_u32(&mut w, a);
            }
            for c in op.consts {
                put_f64(&mut w, c);
            }
            put_u32(&mut w, n.a);
            put_u32(&mut w, n.b);
            put_f64(&mut w, n.da);
            put_f64(&mut w, n.db);
        }
        for g in &self.guards {
            put_u32(&mut w, g.lhs);
            put_u32(&mut w, g.rhs);
            put_f64(&mut w, g.consts[0]);
            put_f64(&mut w, g.consts[1]);
            w.push(GUARD_KINDS.iter().position(|k| *k == g.kind).unwrap_or(0) as u8);
            w.push(g.outcome as u8);
        }
        let sum = fnv1a(&w);
        w.extend_from_slice(&sum.to_le_bytes());
        w
    }

    /// Parses [`RecordedTape::to_bytes`]'s format, checking every index and the checksum.
    ///
    /// # Errors
    /// [`Error::Format`] naming what is wrong; never panics on malformed input.
    pub fn from_bytes(bytes: &[u8]) -> Result<Self, Error> {
        let bad = |m: String| Error::Format(m);
        if bytes.len() < MAGIC.len() || &bytes[..MAGIC.len()] != MAGIC {
            return Err(bad(
                "not a ferrad recorded tape (magic FERRADTP missing)".into()
            ));
        }
        if bytes.len() < MAGIC.len() + 4 + 16 + 8 {
            return Err(bad("file is truncated".into()));
        }
        let (body, sum) = bytes.split_at(bytes.len() - 8);
        let mut r = Reader {
            b: body,
            at: MAGIC.len(),
        };
        let version = r.u32()?;
        if version != VERSION {
            return Err(bad(format!(
                "tape format version {version}; this ferrad reads version {VERSION}"
            )));
        }
        if fnv1a(body).to_le_bytes() != sum {
            return Err(bad("checksum mismatch: the file is corrupt".into()));
        }
        let n_inputs = r.u32()? as usize;
        let n_nodes = r.u32()? as usize;
        let n_outputs = r.u32()? as usize;
        let n_guards = r.u32()? as usize;
        let need =
            n_outputs * 12 + n_nodes.saturating_sub(1) * ENTRY_BYTES + n_guards * GUARD_BYTES;
        if n_nodes == 0 || n_inputs >= n_nodes || r.remaining() != need {
            return Err(bad(format!(
                "counts do not match the file size ({n_inputs} inputs, {n_nodes} slots, {n_outputs} outputs, {n_guards} guards)"
            )));
        }
        let mut outputs = Vec::with_capacity(n_outputs);
        let mut output_consts = Vec::with_capacity(n_outputs);
        for k in 0..n_outputs {
            let o = r.u32()?;
            if o as usize >= n_nodes {
                return Err(bad(format!("output {k} refers to slot {o} of {n_nodes}")));
            }
            outputs.push(o);
            output_consts.push(r.f64()?);
        }
        let mut nodes = vec![Node::leaf()];
        let mut ops = vec![OpRec {
            code: OpCode::Input,
            args: [0; 3],
            consts: [0.0; 3],
        }];
        for i in 1..n_nodes {
            let code = decode_op(r.u8()?, r.u32()?)
                .ok_or_else(|| bad(format!("entry {i}: unknown op code")))?;
            let args = [r.u32()?, r.u32()?, r.u32()?];
            let consts = [r.f64()?, r.f64()?, r.f64()?];
            let node = Node {
                a: r.u32()?,
                b: r.u32()?,
                da: r.f64()?,
                db: r.f64()?,
            };
            let is_input = code == OpCode::Input;
            if is_input != (i <= n_inputs) {
                return Err(bad(format!(
                    "entry {i}: inputs must be the first {n_inputs} entries"
                )));
            }
            if args
                .iter()
                .chain([&node.a, &node.b])
                .any(|&a| a as usize >= i)
            {
                return Err(bad(format!("entry {i} refers to a later entry")));
            }
            if code == OpCode::MulAdd
                && node.a != 0
                && (node.a as usize != i - 1 || ops[i - 1].code != OpCode::MulAddPart)
            {
                return Err(bad(format!(
                    "entry {i}: mul_add without its partial product"
                )));
            }
            nodes.push(node);
            ops.push(OpRec { code, args, consts });
        }
        let mut guards = Vec::with_capacity(n_guards);
        for k in 0..n_guards {
            let (lhs, rhs) = (r.u32()?, r.u32()?);
            let consts = [r.f64()?, r.f64()?];
            let kind = *GUARD_KINDS
                .get(r.u8()? as usize)
                .ok_or_else(|| bad(format!("guard {k}: unknown kind")))?;
            let outcome = r.u8()? as i8;
            if lhs as usize >= n_nodes || rhs as usize >= n_nodes {
                return Err(bad(format!("guard {k} refers to a missing entry")));
            }
            guards.push(Guard {
                lhs,
                rhs,
                consts,
                kind,
                outcome,
            });
        }
        let program = Program::new(&ops, &external_reads(&outputs, &guards));
        Ok(RecordedTape {
            n_inputs,
            outputs,
            output_consts,
            nodes,
            partials: vec![0.0; program.n_partials()],
            values: vec![0.0; program.n_values()],
            adj: vec![0.0; program.n_values()],
            program,
            ops,
            guards,
        })
    }
}

/// The slots read from outside the replay program: outputs, and both sides of every guard.
fn external_reads(outputs: &[u32], guards: &[Guard<f64>]) -> Vec<u32> {
    let sides = guards.iter().flat_map(|g| [g.lhs, g.rhs]);
    outputs.iter().copied().chain(sides).collect()
}

fn outcome_text(kind: GuardKind, o: i8) -> &'static str {
    match (kind, o) {
        (GuardKind::Cmp, -1) => "Less",
        (GuardKind::Cmp, 0) => "Equal",
        (GuardKind::Cmp, 1) => "Greater",
        (GuardKind::Cmp, _) => "unordered",
        (_, 1) => "true",
        _ => "false",
    }
}

const MAGIC: &[u8; 8] = b"FERRADTP";
const VERSION: u32 = 1;
const ENTRY_BYTES: usize = 1 + 4 + 12 + 24 + 8 + 16;
const GUARD_BYTES: usize = 8 + 16 + 2;
const GUARD_KINDS: [GuardKind; 6] = [
    GuardKind::Lt,
    GuardKind::Le,
    GuardKind::Gt,
    GuardKind::Ge,
    GuardKind::Eq,
    GuardKind::Cmp,
];
const UNARIES: usize = 24; // Unary::ALL without the Powi entries

fn encode_op(code: OpCode) -> (u8, u32) {
    match code {
        OpCode::Input => (0, 0),
        OpCode::Unary(Unary::Powi(n)) => (2, n as u32),
        OpCode::Unary(u) => (
            1,
            Unary::ALL[..UNARIES]
                .iter()
                .position(|&v| v == u)
                .unwrap_or(0) as u32,
        ),
        OpCode::Binary(b) => (
            3,
            Binary::ALL.iter().position(|&v| v == b).unwrap_or(0) as u32,
        ),
        OpCode::MulAddPart => (4, 0),
        OpCode::MulAdd => (5, 0),
        OpCode::AddConst => (6, 0),
        OpCode::MulConst => (7, 0),
        OpCode::DivConst => (8, 0),
        OpCode::Step(s) => (
            9,
            Step::ALL.iter().position(|&v| v == s).unwrap_or(0) as u32,
        ),
        OpCode::CustomOut => (10, 0),
    }
}

fn decode_op(code: u8, sub: u32) -> Option<OpCode> {
    Some(match code {
        0 => OpCode::Input,
        1 => OpCode::Unary(*Unary::ALL[..UNARIES].get(sub as usize)?),
        2 => OpCode::Unary(Unary::Powi(sub as i32)),
        3 => OpCode::Binary(*Binary::ALL.get(sub as usize)?),
        4 => OpCode::MulAddPart,
        5 => OpCode::MulAdd,
        6 => OpCode::AddConst,
        7 => OpCode::MulConst,
        8 => OpCode::DivConst,
        9 => OpCode::Step(*Step::ALL.get(sub as usize)?),
        _ => return None,
    })
}

fn put_u32(w: &mut Vec<u8>, v: u32) {
    w.extend_from_slice(&v.to_le_bytes());
}

fn put_f64(w: &mut Vec<u8>, v: f64) {
    w.extend_from_slice(&v.to_le_bytes());
}

fn fnv1a(bytes: &[u8]) -> u64 {
    bytes.iter().fold(0xcbf2_9ce4_8422_2325u64, |h, &b| {
        (h ^ b as u64).wrapping_mul(0x0100_0000_01b3)
    })
}

struct Reader<'a> {
    b: &'a [u8],
    at: usize,
}

impl Reader<'_> {
    fn remaining(&self) -> usize {
        self.b.len() - self.at
    }
    fn take<const N: usize>(&mut self) -> Result<[u8; N], Error> {
        let s = self
            .b
            .get(self.at..self.at + N)
            .ok_or_else(|| Error::Format(format!("file is truncated at byte {}", self.at)))?;
        self.at += N;
        let mut out = [0u8; N];
        out.copy_from_slice(s);
        Ok(out)
    }
    fn u8(&mut self) -> Result<u8, Error> {
        Ok(self.take::<1>()?[0])
    }
    fn u32(&mut self) -> Result<u32, Error> {
        Ok(u32::from_le_bytes(self.take()?))
    }
    fn f64(&mut self) -> Result<f64, Error> {
        Ok(f64::from_le_bytes(self.take()?))
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::real::Real;

    struct Branchy;
    impl ScalarFn for Branchy {
        fn eval<T: Real>(&self, x: &[T]) -> T {
            let mut s = T::zero();
            for &v in x {
                s += if v > T::cst(0.5) {
                    v.sin() * v
                } else {
                    v.exp().mul_add(v, T::cst(2.0))
                };
            }
            (s.floor() + s).abs() / 3.0 + x[0].max(x[2]).powi(3)
        }
    }

    #[test]
    fn replay_matches_fresh_gradients_on_the_same_path() {
        let x0 = [0.7, 0.2, 0.9];
        let mut tape = RecordedTape::record(&Branchy, &x0).unwrap();
        for x in [[0.7, 0.2, 0.9], [0.6, 0.3, 0.8], [0.9, 0.1, 0.55]] {
            let (y, g) = tape.gradient(&x).unwrap();
            let (y2, g2) = crate::gradient(&Branchy, &x);
            assert_eq!(y, y2);
            for (a, b) in g.iter().zip(&g2) {
                assert!((a - b).abs() <= 1e-14 * b.abs().max(1.0), "{g:?} vs {g2:?}");
            }
        }
    }

    #[test]
    fn a_flipped_comparison_is_an_error_not_a_wrong_gradient() {
        let mut tape = RecordedTape::record(&Branchy, &[0.7, 0.2, 0.9]).unwrap();
        match tape.gradient(&[0.7, 0.2, 0.1]) {
            Err(Error::ControlFlowChanged { what, .. }) => assert!(what.contains('>'), "{what}"),
            other => panic!("expected ControlFlowChanged, got {other:?}"),
        }
        // max(x0, x2) switching operands is a primitive, not a branch: replay handles it.
        let (_, g) = tape.gradient(&[0.95, 0.2, 0.6]).unwrap();
        assert_eq!(g, crate::gradient(&Branchy, &[0.95, 0.2, 0.6]).1);
    }

    #[test]
    fn save_load_round_trip_and_corruption_is_an_error() {
        let mut tape = RecordedTape::record(&Branchy, &[0.7, 0.2, 0.9]).unwrap();
        let bytes = tape.to_bytes();
        let mut back = RecordedTape::from_bytes(&bytes).unwrap();
        assert_eq!(back.dump(), tape.dump());
        assert_eq!(
            back.gradient(&[0.6, 0.3, 0.8]).unwrap(),
            tape.gradient(&[0.6, 0.3, 0.8]).unwrap()
        );
        for cut in [0, 7, 8, 20, bytes.len() / 2, bytes.len() - 1] {
            assert!(
                matches!(
                    RecordedTape::from_bytes(&bytes[..cut]),
                    Err(Error::Format(_))
                ),
                "cut {cut}"
            );
        }
        for at in [9, 30, bytes.len() / 2, bytes.len() - 3] {
            let mut b = bytes.clone();
            b[at] ^= 0x40;
            assert!(
                matches!(RecordedTape::from_bytes(&b), Err(Error::Format(_))),
                "flip at {at}"
            );
        }
        let mut v2 = bytes.clone();
        v2[8] = 2;
        match RecordedTape::from_bytes(&v2) {
            Err(Error::Format(m)) => assert!(m.contains("version 2"), "{m}"),
            other => panic!("{other:?}"),
        }
    }

    #[test]
    fn wrong_input_length_is_a_shape_error() {
        let mut tape = RecordedTape::record(&Branchy, &[0.7, 0.2, 0.9]).unwrap();
        assert!(matches!(
            tape.gradient(&[1.0]),
            Err(Error::Shape {
                expected: 3,
                got: 1,
                ..
            })
        ));
    }
}
