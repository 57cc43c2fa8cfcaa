/** The one stylesheet of the pages, served at /assets/app.css. Small, no build step, phone-first. */
export const STYLESHEET = `
:root { --bg:#f6f7f9; --card:#fff; --ink:#1d2330; --muted:#5d6675; --line:#e2e5ea; --accent:#2f6fed; --ok:#176b3a; --warn:#9a4f00; --bad:#c0392b; }
* { box-sizing: border-box; }
body { margin:0; font:16px/1.5 system-ui,-apple-system,"Segoe UI",Roboto,sans-serif; background:var(--bg); color:var(--ink); }
header.top { background:var(--ink); color:#fff; padding:.75rem 1rem; display:flex; gap:1rem; align-items:center; flex-wrap:wrap; }
header.top a { color:#fff; text-decoration:none; opacity:.85; } header.top a:hover, header.top a[aria-current] { opacity:1; text-decoration:underline; }
header.top .brand { font-weight:700; margin-right:auto; opacity:1; }
header.top form { margin:0; } header.top button { background:transparent; color:#fff; border:1px solid #ffffff55; padding:.25rem .6rem; }
main { max-width:960px; margin:0 auto; padding:1rem; }
h1 { font-size:1.5rem; margin:.5rem 0 1rem; } h2 { font-size:1.1rem; margin:0 0 .75rem; }
.card { background:var(--card); border:1px solid var(--line); border-radius:10px; padding:1rem; margin-bottom:1rem; }
.grid { display:grid; gap:1rem; grid-template-columns:repeat(auto-fit,minmax(280px,1fr)); }
label { display:block; font-weight:600; margin-bottom:.25rem; } label.plain { font-weight:400; display:inline; }
input[type=text], input[type=password] { width:100%; padding:.6rem; border:1px solid var(--line); border-radius:8px; font:inherit; }
button, .button { display:inline-block; background:var(--accent); color:#fff; border:0; border-radius:8px; padding:.55rem 1rem; font:inherit; cursor:pointer; text-decoration:none; }
button.secondary { background:#e9edf5; color:var(--ink); } button.danger { background:var(--bad); }
.row { display:flex; gap:.5rem; flex-wrap:wrap; align-items:center; margin-top:.75rem; }
.error { background:#fdecea; border:1px solid #f5c6c0; color:#7d1d14; padding:.6rem .8rem; border-radius:8px; margin:.5rem 0; }
.notice { background:#fff4e5; border:1px solid #ffd8a8; color:#663c00; padding:.6rem .8rem; border-radius:8px; margin:.5rem 0; }
.muted { color:var(--muted); font-size:.9rem; }
.badge { display:inline-block; padding:.1rem .55rem; border-radius:999px; font-size:.85rem; font-weight:600; }
.badge.ok { background:#e3f4ea; color:var(--ok); } .badge.warn { background:#fff1df; color:var(--warn); } .badge.bad { background:#fdecea; color:var(--bad); }
progress { width:100%; height:.8rem; }
table { width:100%; border-collapse:collapse; font-size:.95rem; } th, td { text-align:left; padding:.4rem .3rem; border-bottom:1px solid var(--line); }
td.num, th.num { text-align:right; font-variant-numeric:tabular-nums; }
.table-wrap { overflow-x:auto; } .table-wrap:focus-visible { outline:2px solid var(--accent); outline-offset:2px; }
svg.chart { width:100%; height:auto; } svg.chart text { font-size:11px; fill:var(--muted); } svg.chart .bar { fill:var(--accent); }
.stat { font-size:1.6rem; font-weight:700; } code { background:#eef1f6; padding:.1rem .3rem; border-radius:4px; word-break:break-all; }
`;
