//! Every eval, run in process through the protocol on small inputs; derivatives are checked
//! against central finite differences of the tool's own primal, or against closed forms.

use ferrad_gradbench::Tool;
use serde_json::{Value, json};

/// Sends `evaluate module.function(input)` and returns the output, failing on `success: false`.
fn eval(module: &str, function: &str, input: &Value) -> Value {
    let reply = try_eval(module, function, input);
    assert_eq!(
        reply["success"],
        json!(true),
        "{module}.{function} failed: {reply}"
    );
    reply["output"].clone()
}

fn try_eval(module: &str, function: &str, input: &Value) -> Value {
    let mut tool = Tool::new();
    let start = tool.handle(&json!({"id": 0, "kind": "start", "eval": module}));
    assert_eq!(start["tool"], json!("ferrad"));
    let define = tool.handle(&json!({"id": 1, "kind": "define", "module": module}));
    assert_eq!(define, json!({"id": 1, "success": true}));
    let line = json!({"id": 2, "kind": "evaluate", "module": module, "function": function, "input": input}).to_string();
    let reply: Value = serde_json::from_str(&tool.handle_line(&line)).expect("reply is JSON");
    assert_eq!(reply["id"], json!(2));
    reply
}

fn num(v: &Value) -> f64 {
    v.as_f64().unwrap_or_else(|| panic!("not a number: {v}"))
}

/// The numeric leaves of `v` in order, with their JSON pointers.
fn leaves(v: &Value, at: String, out: &mut Vec<(String, f64)>) {
    match v {
        Value::Number(n) => out.push((at, n.as_f64().expect("finite"))),
        Value::Array(a) => a
            .iter()
            .enumerate()
            .for_each(|(i, x)| leaves(x, format!("{at}/{i}"), out)),
        Value::Object(o) => o
            .iter()
            .for_each(|(k, x)| leaves(x, format!("{at}/{k}"), out)),
        _ => {}
    }
}

/// Central differences of `module.primal` with respect to each numeric leaf of `input` under the
/// JSON pointers `wrt` (in that order); `pick` reads the scalar to differentiate from the output.
fn finite_diff(
    module: &str,
    primal: &str,
    input: &Value,
    wrt: &[String],
    pick: impl Fn(&Value) -> f64,
) -> Vec<f64> {
    wrt.iter()
        .map(|p| {
            let x = num(input.pointer(p).expect("pointer"));
            let h = 1e-6 * x.abs().max(1.0);
            let mut up = input.clone();
            *up.pointer_mut(p).expect("pointer") = json!(x + h);
            let mut down = input.clone();
            *down.pointer_mut(p).expect("pointer") = json!(x - h);
            (pick(&eval(module, primal, &up)) - pick(&eval(module, primal, &down))) / (2.0 * h)
        })
        .collect()
}

fn pointers(input: &Value, fields: &[&str]) -> Vec<String> {
    let mut out = Vec::new();
    for f in fields {
        leaves(&input[*f], format!("/{f}"), &mut out);
    }
    out.into_iter().map(|(p, _)| p).collect()
}

fn flat(v: &Value) -> Vec<f64> {
    let mut out = Vec::new();
    leaves(v, String::new(), &mut out);
    out.into_iter().map(|(_, x)| x).collect()
}

fn assert_close(what: &str, got: &[f64], want: &[f64], tol: f64) {
    assert_eq!(got.len(), want.len(), "{what}: lengths differ");
    for (i, (g, w)) in got.iter().zip(want).enumerate() {
        assert!(
            (g - w).abs() <= tol * w.abs().max(1.0),
            "{what}[{i}]: got {g}, want {w}"
        );
    }
}

fn check_gradient(module: &str, primal: &str, derivative: &str, input: Value, fields: &[&str]) {
    let wrt = pointers(&input, fields);
    let fd = finite_diff(module, primal, &input, &wrt, num);
    let g = flat(&eval(module, derivative, &input));
    assert_close(&format!("{module}.{derivative}"), &g, &fd, 1e-5);
}

#[test]
fn protocol_start_define_analysis_and_errors() {
    let mut tool = Tool::new();
    assert_eq!(
        tool.handle_line(r#"{"id":0,"kind":"start","eval":"lse"}"#),
        r#"{"id":0,"tool":"ferrad"}"#
    );
    let undefined: Value =
        serde_json::from_str(&tool.handle_line(r#"{"id":1,"kind":"define","module":"nope"}"#))
            .unwrap();
    assert_eq!(undefined["success"], json!(false));
    assert!(undefined["error"].as_str().unwrap().contains("nope"));
    assert_eq!(
        tool.handle_line(r#"{"id":3,"kind":"analysis","of":2,"valid":true}"#),
        r#"{"id":3}"#
    );
    let garbage: Value = serde_json::from_str(&tool.handle_line("not json")).unwrap();
    assert_eq!(garbage["success"], json!(false));
    for (module, function, input) in [
        ("lse", "gradient", json!({"x": "oops"})),
        ("lse", "hessian", json!({"x": [1.0]})),
        (
            "gmm",
            "jacobian",
            json!({"d": 2, "k": 1, "n": 1, "x": [[1.0]], "m": 0, "gamma": 1.0,
                                   "alpha": [0.0], "mu": [[0.0, 0.0]], "q": [[0.0, 0.0]], "l": [[0.0]]}),
        ),
        ("det", "gradient", json!({"A": [1.0, 2.0, 3.0], "ell": 2})),
        ("ode", "gradient", json!({"x": [], "s": 1})),
        ("ht", "jacobian", json!({"theta": [0.0], "us": []})),
        (
            "ba",
            "jacobian",
            json!({"n": 1, "m": 1, "p": 1, "cam": [1.0], "x": [1.0, 2.0, 3.0], "w": 1.0, "feat": [0.0, 0.0]}),
        ),
        ("saddle", "fx", json!({"start": [1.0, 1.0]})),
    ] {
        let reply = try_eval(module, function, &input);
        assert_eq!(
            reply["success"],
            json!(false),
            "{module}.{function} on {input}: {reply}"
        );
        assert!(reply["error"].is_string());
    }
}

#[test]
fn timing_follows_min_runs() {
    let reply = try_eval(
        "lse",
        "primal",
        &json!({"x": [1.0, 2.0], "min_runs": 3, "min_seconds": 0}),
    );
    let timings = reply["timings"].as_array().unwrap();
    assert_eq!(
        timings.iter().filter(|t| t["name"] == "evaluate").count(),
        3
    );
    assert_eq!(timings.iter().filter(|t| t["name"] == "prepare").count(), 1);
    assert!(timings.iter().all(|t| t["nanoseconds"].is_u64()));
}

#[test]
fn hello() {
    assert_eq!(eval("hello", "square", &json!(3.0)), json!(9.0));
    assert_eq!(eval("hello", "double", &json!(3.0)), json!(6.0));
}

#[test]
fn lse_gradient_is_softmax() {
    let x = [0.5, -1.0, 2.0, 30.0, -100.0];
    let y = num(&eval("lse", "primal", &json!({"x": x})));
    let want_y = x.iter().map(|v: &f64| v.exp()).sum::<f64>().ln();
    assert!((y - want_y).abs() < 1e-12);
    let g = flat(&eval("lse", "gradient", &json!({"x": x})));
    let softmax: Vec<f64> = x.iter().map(|v| (v - want_y).exp()).collect();
    assert_close("lse", &g, &softmax, 1e-12);
}

#[test]
fn llsq() {
    check_gradient(
        "llsq",
        "primal",
        "gradient",
        json!({"x": [0.1, -0.2, 0.3, 0.05], "n": 7}),
        &["x"],
    );
}

#[test]
fn ode() {
    let x = [0.3, -0.5, 0.8, 1.2, 0.4];
    let input = json!({"x": x, "s": 3});
    let wrt = pointers(&input, &["x"]);
    let fd = finite_diff("ode", "primal", &input, &wrt, |y| num(&y[4]));
    let g = flat(&eval("ode", "gradient", &input));
    assert_close("ode", &g, &fd, 1e-6);
    // y₀(t) = x₀·t exactly, so y₀(2) = 2x₀.
    assert!((num(&eval("ode", "primal", &input)[0]) - 0.6).abs() < 1e-12);
}

#[test]
fn det() {
    let a = [
        2.0, -1.0, 0.5, 3.0, 1.0, 4.0, -2.0, 0.0, 0.3, 1.5, 2.5, -1.0, 0.7, -0.4, 1.1, 2.2,
    ];
    let input = json!({"A": a, "ell": 4});
    check_gradient("det", "primal", "gradient", input, &["A"]);
    assert_eq!(
        eval(
            "det",
            "primal",
            &json!({"A": [1, 2, 3, 4, 5, 6, 7, 8, 10], "ell": 3})
        ),
        json!(-3.0)
    );
}

#[test]
fn gmm() {
    let input = json!({
        "d": 3, "k": 2, "n": 4, "m": 2, "gamma": 1.3,
        "x": [[0.1, 0.2, -0.3], [1.0, -0.5, 0.2], [-0.7, 0.4, 0.9], [0.3, 0.3, 0.3]],
        "alpha": [0.2, -0.4],
        "mu": [[0.0, 0.1, 0.2], [0.5, -0.2, 0.1]],
        "q": [[0.1, -0.2, 0.05], [0.0, 0.3, -0.1]],
        "l": [[0.2, -0.1, 0.4], [0.0, 0.5, -0.3]],
    });
    let wrt = pointers(&input, &["alpha", "mu", "q", "l"]);
    let fd = finite_diff("gmm", "objective", &input, &wrt, num);
    let out = eval("gmm", "jacobian", &input);
    let g: Vec<f64> = wrt
        .iter()
        .map(|p| num(out.pointer(p).expect("same shape as the input")))
        .collect();
    assert_close("gmm", &g, &fd, 1e-5);
}

#[test]
fn gmm_objective_matches_closed_form_d1() {
    // d = 1, k = 1: log N(x; μ, e^{-2q}) summed, plus the Wishart log density of e^{2q}.
    let (x, mu, q, m, gamma): ([f64; 2], f64, f64, f64, f64) = ([0.3, -0.8], 0.1, 0.4, 1.0, 2.0);
    let input = json!({"d": 1, "k": 1, "n": 2, "m": 1, "gamma": gamma, "x": [[x[0]], [x[1]]],
                       "alpha": [0.7], "mu": [[mu]], "q": [[q]], "l": [[]]});
    let prec = (2.0 * q).exp();
    let lik: f64 = x
        .iter()
        .map(|xi| 0.5 * (prec / (2.0 * std::f64::consts::PI)).ln() - 0.5 * prec * (xi - mu).powi(2))
        .sum();
    // Wishart W₁(V = 1/γ², n = 2 + m) at precision P: P^{(n−2)/2} e^{−γ²P/2} / (2^{n/2} γ^{−n} Γ(n/2)).
    let n = 2.0 + m;
    let prior = (n - 2.0) / 2.0 * prec.ln() - gamma * gamma * prec / 2.0 - n / 2.0 * 2f64.ln()
        + n * gamma.ln()
        - ferrad_gradbench::evals::gmm::ln_gamma(n / 2.0);
    let y = num(&eval("gmm", "objective", &input));
    assert!((y - (lik + prior)).abs() < 1e-10, "{y} vs {}", lik + prior);
}

#[test]
fn kmeans_dir_is_offset_from_cluster_mean() {
    let points = [[0.0, 0.0], [1.0, 0.5], [0.2, 0.1], [5.0, 5.0], [6.0, 4.0]];
    let centroids = [[0.5, 0.5], [5.5, 4.0]];
    let input = json!({"points": points, "centroids": centroids});
    let cost = num(&eval("kmeans", "cost", &input));
    let want_cost: f64 = [
        (0.25 + 0.25),
        (0.25 + 0.0),
        (0.09 + 0.16),
        (0.25 + 1.0),
        (0.25 + 0.0),
    ]
    .iter()
    .sum();
    assert!((cost - want_cost).abs() < 1e-12);
    // J = 2·Σ(c − p), H = 2·|cluster| on the diagonal, so J/H = c − mean(cluster).
    let dir = flat(&eval("kmeans", "dir", &input));
    let want = [0.5 - 0.4, 0.5 - 0.2, 5.5 - 5.5, 4.0 - 4.5];
    assert_close("kmeans", &dir, &want, 1e-12);
}

#[test]
fn lstm() {
    let (l, b, c) = (2usize, 3usize, 4usize);
    let val = |i: usize, s: f64| (i as f64 * 0.37 + s).sin() * 0.5;
    let main: Vec<Vec<f64>> = (0..2 * l)
        .map(|r| (0..4 * b).map(|j| val(r * 31 + j, 0.1)).collect())
        .collect();
    let extra: Vec<Vec<f64>> = (0..3)
        .map(|r| (0..b).map(|j| val(r * 7 + j, 1.3)).collect())
        .collect();
    let state: Vec<Vec<f64>> = (0..2 * l)
        .map(|r| (0..b).map(|j| val(r * 5 + j, 2.1)).collect())
        .collect();
    let sequence: Vec<Vec<f64>> = (0..c)
        .map(|r| (0..b).map(|j| val(r * 3 + j, 0.7).abs()).collect())
        .collect();
    let input =
        json!({"main_params": main, "extra_params": extra, "state": state, "sequence": sequence});
    check_gradient(
        "lstm",
        "objective",
        "jacobian",
        input,
        &["main_params", "extra_params"],
    );
}

#[test]
fn ba() {
    let cam = [
        0.1, -0.2, 0.3, 0.5, -0.4, -3.0, 200.0, 10.0, -5.0, 1e-3, -2e-4,
    ];
    let input = json!({"n": 2, "m": 3, "p": 12, "cam": cam, "x": [0.3, -0.2, 2.0], "w": 0.8, "feat": [12.0, -7.0]});
    let obj = eval("ba", "objective", &input);
    assert_eq!(obj["reproj_error"]["repeated"], json!(12));
    assert_eq!(obj["w_err"]["repeated"], json!(12));
    assert!((num(&obj["w_err"]["element"]) - (1.0 - 0.64)).abs() < 1e-12);
    let jac = eval("ba", "jacobian", &input);
    let vals = flat(&jac["vals"]);
    let cols: Vec<u64> = jac["cols"]
        .as_array()
        .unwrap()
        .iter()
        .map(|v| v.as_u64().unwrap())
        .collect();
    let rows: Vec<u64> = jac["rows"]
        .as_array()
        .unwrap()
        .iter()
        .map(|v| v.as_u64().unwrap())
        .collect();
    assert_eq!((vals.len(), cols.len(), rows.len()), (31, 31, 31));
    // Observation 0 sees camera 0 and point 0; columns: 11 camera, 3 point, then its weight.
    let want_cols: Vec<u64> = (0..11).chain(22..25).chain([31]).collect();
    assert_eq!(&cols[..15], &want_cols[..]);
    assert_eq!(&cols[15..30], &want_cols[..]);
    assert_eq!(rows[..3], [0, 15, 30]);
    assert_eq!(*rows.last().unwrap(), 15 * 2 * 12 + 12);
    assert_eq!(*cols.last().unwrap(), 22 + 9 + 11);
    assert!((vals[30] + 2.0 * 0.8).abs() < 1e-12);
    // The two rows of observation 0 against central differences (the replicated input moves
    // camera 0, point 0 and weight 0 together with the copies that observation 0 does not see).
    let mut wrt = pointers(&input, &["cam", "x"]);
    wrt.push("/w".into());
    for row in 0..2 {
        let fd = finite_diff("ba", "objective", &input, &wrt, |o| {
            num(&o["reproj_error"]["elements"][row])
        });
        assert_close("ba", &vals[15 * row..15 * row + 15], &fd, 1e-5);
    }
}

/// A small hand: 22 bones in a chain with offsets, 6 vertices, 3 triangles.
fn hand_input(us: bool) -> Value {
    let nb = 22;
    let nv = 6;
    let rel = |b: usize| {
        let t = [0.1 * (b % 3) as f64, 0.2, -0.05 * (b % 2) as f64];
        json!([
            [1.0, 0.0, 0.0, t[0]],
            [0.0, 1.0, 0.0, t[1]],
            [0.0, 0.0, 1.0, t[2]],
            [0.0, 0.0, 0.0, 1.0]
        ])
    };
    let inv = |b: usize| {
        let t = -0.03 * b as f64;
        json!([
            [1.0, 0.0, 0.0, t],
            [0.0, 1.0, 0.0, 0.0],
            [0.0, 0.0, 1.0, -t],
            [0.0, 0.0, 0.0, 1.0]
        ])
    };
    let weights: Vec<Vec<f64>> = (0..nv)
        .map(|v| {
            (0..nb)
                .map(|b| {
                    if b % nv == v || (b + 1) % nv == v {
                        0.5
                    } else {
                        0.0
                    }
                })
                .collect()
        })
        .collect();
    let positions: Vec<[f64; 4]> = (0..nv)
        .map(|v| {
            [
                0.1 * v as f64,
                0.3 - 0.05 * v as f64,
                0.02 * (v * v) as f64,
                1.0,
            ]
        })
        .collect();
    let theta: Vec<f64> = (0..26)
        .map(|i| 0.1 * ((i as f64) * 1.7).sin() + if i == 2 { 0.3 } else { 0.0 })
        .collect();
    let mut input = json!({
        "theta": theta,
        "data": {
            "model": {
                "bone_count": nb,
                "bone_names": (0..nb).map(|b| format!("bone{b}")).collect::<Vec<_>>(),
                "parents": (0..nb).map(|b| b as i64 - 1).collect::<Vec<_>>(),
                "base_relatives": (0..nb).map(rel).collect::<Vec<_>>(),
                "inverse_base_absolutes": (0..nb).map(inv).collect::<Vec<_>>(),
                "base_positions": positions,
                "weights": weights,
                "triangles": [[0, 1, 2], [2, 3, 4], [3, 4, 5]],
                "is_mirrored": true,
            },
            "correspondences": if us { json!([0, 2, 1, 2]) } else { json!([0, 5, 3, 1]) },
            "points": [[0.1, 0.2, 0.3], [0.0, -0.1, 0.4], [0.3, 0.3, 0.0], [-0.2, 0.1, 0.1]],
        },
        "us": [],
    });
    if us {
        input["us"] = json!([[0.2, 0.3], [0.5, 0.1], [0.25, 0.25], [0.6, 0.3]]);
    }
    input
}

fn check_ht(us: bool) {
    let input = hand_input(us);
    let jac = eval("ht", "jacobian", &input);
    let rows: Vec<Vec<f64>> = jac.as_array().unwrap().iter().map(flat).collect();
    assert_eq!(rows.len(), 12);
    let theta = pointers(&input, &["theta"]);
    let offset = if us { 2 } else { 0 };
    for (r, row) in rows.iter().enumerate() {
        assert_eq!(row.len(), 26 + offset);
        let fd = finite_diff("ht", "objective", &input, &theta, |o| num(&o[r]));
        assert_close(&format!("ht row {r}"), &row[offset..], &fd, 1e-5);
        if us {
            let i = r / 3;
            let u = [format!("/us/{i}/0"), format!("/us/{i}/1")];
            let fd = finite_diff("ht", "objective", &input, &u, |o| num(&o[r]));
            assert_close(&format!("ht row {r} (u)"), &row[..2], &fd, 1e-5);
        }
    }
}

#[test]
fn ht_simple() {
    check_ht(false);
}

#[test]
fn ht_complicated() {
    check_ht(true);
}

#[test]
fn particle_all_modes() {
    for f in ["ff", "fr", "rf", "rr"] {
        let w = num(&eval("particle", f, &json!({"w": 0.0})));
        assert!((w - 0.2071918746486116).abs() < 1e-10, "{f}: {w}");
    }
}

#[test]
fn saddle_all_modes() {
    for f in ["ff", "fr", "rf", "rr"] {
        let out = flat(&eval("saddle", f, &json!({"start": [1.0, 1.0]})));
        assert_close(f, &out, &[8.246324826140356e-06; 4], 1e-10);
    }
}

#[test]
fn gmm_weighted_beta_sum_matches_the_sum_over_points() {
    use ferrad_gradbench::evals::gmm::{Moments, beta, weighted_beta_sum};
    let d = 4;
    let mu = [0.1, -0.3, 0.2, 0.5];
    let q = [0.2, -0.1, 0.3, 0.0];
    let l = [0.4, -0.2, 0.1, 0.3, -0.5, 0.25];
    let points: Vec<Vec<f64>> = (0..5)
        .map(|i| (0..d).map(|j| ((i * d + j) as f64 * 0.7).sin()).collect())
        .collect();
    let weights = [0.1, 0.5, 0.05, 0.3, 0.05];
    let mut m = Moments::zero(d);
    let mut want = 0.0;
    for (x, &w) in points.iter().zip(&weights) {
        m.add(w, x);
        want += w * beta(0.7, &mu, &q, &l, x);
    }
    m.mirror();
    let got = weighted_beta_sum(0.7, &mu, &q, &l, &m);
    assert!((got - want).abs() < 1e-12, "{got} vs {want}");
}
