// Charts and overlays as PNG: vega-lite to SVG to PNG with sharp
export {};
