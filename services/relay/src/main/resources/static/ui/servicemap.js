// The service map's layout: namespaces as columns across the whole width, their workloads as
// cards stacked inside, and every edge routed orthogonally through free space, so no edge crosses
// a card and no label covers a card or another label.
//
// The plane is cut into column bands (where cards stand), gutters between and beside columns (where
// edges run vertically, each edge in a lane of its own) and row bands between rows of cards (where
// edges run horizontally, in slots). An edge leaves its source card sideways into a gutter, runs
// along it to the row band above its destination, across that band in a slot, down or up another
// gutter and into the destination card from the side. Its label sits in its slot, and a slot holds
// only edges (with their labels) whose horizontal extents do not overlap.
'use strict';

const ServiceMapLayout = (() => {
  const CARD_HEIGHT = 36;
  const HEADER = 34;       // the namespaces' names
  const SLOT = 20;         // one horizontal run with its label
  const BAND_PADDING = 10;
  const LANE = 6;          // between two vertical runs in a gutter
  const GUTTER_MIN = 28;
  const COLUMN_MIN = 150;
  const PORTS_SHOWN = 2;

  const OUTSIDE = '(outside the cluster)';

  /** What an edge's label says: its protocols and ports, then its connections by verdict. */
  function edgeLabel(edge) {
    const ports = edge.ports || [];
    const shown = ports.slice(0, PORTS_SHOWN).join(', ')
      + (ports.length > PORTS_SHOWN || edge.portsTruncated ? ` +${ports.length - PORTS_SHOWN > 0 ? ports.length - PORTS_SHOWN : ''}…` : '');
    const counts = Object.entries(edge.verdicts).map(([v, n]) => `${n} ${v.toLowerCase()}`).join(', ');
    return shown ? `${shown} · ${counts}` : counts;
  }

  function edgeTitle(edge) {
    const counts = Object.entries(edge.verdicts).map(([v, n]) => `${n} ${v.toLowerCase()}`).join(', ');
    return `${edge.source} → ${edge.destination}: ${(edge.ports || []).join(', ')}${edge.portsTruncated ? ' and more' : ''}`
      + ` (${counts} connections)`;
  }

  /**
   * Positions for a map: measure(text) gives a label's width in pixels, width is the space to
   * fill. Returns columns, cards, routed edges (points and label box) and the drawing's size.
   */
  function layout(map, width, measure) {
    const byNamespace = new Map();
    for (const node of map.nodes) {
      const key = node.namespace || OUTSIDE;
      if (!byNamespace.has(key)) byNamespace.set(key, []);
      byNamespace.get(key).push(node);
    }
    const names = [...byNamespace.keys()].sort((a, b) => ((a === OUTSIDE) - (b === OUTSIDE)) || a.localeCompare(b));
    const place = new Map(); // node id -> { column, row }
    names.forEach((name, column) => byNamespace.get(name).forEach((node, row) => place.set(node.id, { column, row })));
    const rows = Math.max(1, ...names.map(n => byNamespace.get(n).length));

    // Which gutter each end of an edge uses (gutter k is left of column k), and on which side of
    // the card: towards the other end; within one column, on the right.
    const edges = map.edges.filter(e => place.has(e.source) && place.has(e.destination)).map(edge => {
      const from = place.get(edge.source);
      const to = place.get(edge.destination);
      const rightward = to.column >= from.column;
      return {
        edge, from, to, label: edgeLabel(edge), title: edgeTitle(edge),
        outGutter: rightward ? from.column + 1 : from.column,
        inGutter: to.column > from.column ? to.column : to.column + 1,
        outSide: rightward ? 'right' : 'left',
        inSide: to.column > from.column ? 'left' : 'right',
      };
    });

    // Lanes: every edge has one lane in the gutter it leaves by and one in the gutter it enters by.
    const lanes = Array.from({ length: names.length + 1 }, () => 0);
    for (const e of edges) {
      e.outLane = lanes[e.outGutter]++;
      e.inLane = lanes[e.inGutter]++;
    }
    const gutterWidth = lanes.map(n => Math.max(GUTTER_MIN, n * LANE + 16));
    const gutters = gutterWidth.reduce((a, b) => a + b, 0);
    const columnWidth = Math.max(COLUMN_MIN, Math.floor((width - gutters) / Math.max(1, names.length)));
    const columnX = [];
    let x = gutterWidth[0];
    for (let c = 0; c < names.length; c++) {
      columnX.push(x);
      x += columnWidth + gutterWidth[c + 1];
    }
    const totalWidth = Math.max(width, x);
    const gutterLeft = k => (k === 0 ? 0 : columnX[k - 1] + columnWidth);
    const laneX = (k, lane) => gutterLeft(k) + 8 + lane * LANE + (gutterWidth[k] - 16 - lanes[k] * LANE) / 2;

    // Slots: the horizontal runs of the edges into row r share the band above row r; an edge (with
    // its label) takes the first slot where nothing overlaps its extent.
    const slots = Array.from({ length: rows }, () => []);
    for (const e of edges) {
      const a = laneX(e.outGutter, e.outLane);
      const b = laneX(e.inGutter, e.inLane);
      e.labelWidth = Math.ceil(measure(e.label)) + 6;
      const middle = (a + b) / 2;
      e.labelX = Math.min(Math.max(2, middle - e.labelWidth / 2), totalWidth - 2 - e.labelWidth);
      const left = Math.min(a, b, e.labelX) - 4;
      const right = Math.max(a, b, e.labelX + e.labelWidth) + 4;
      const band = slots[e.to.row];
      let slot = band.findIndex(taken => taken.every(([l, r]) => right < l || left > r));
      if (slot < 0) {
        band.push([]);
        slot = band.length - 1;
      }
      band[slot].push([left, right]);
      e.slot = slot;
      e.a = a;
      e.b = b;
    }
    const bandTop = [];
    const rowTop = [];
    let y = HEADER;
    for (let r = 0; r < rows; r++) {
      bandTop.push(y);
      y += BAND_PADDING + slots[r].length * SLOT;
      rowTop.push(y);
      y += CARD_HEIGHT;
    }
    const height = y + BAND_PADDING + 6;

    const cards = [];
    names.forEach((name, column) => byNamespace.get(name).forEach((node, row) => cards.push({
      node, x: columnX[column] + 6, y: rowTop[row], width: columnWidth - 12, height: CARD_HEIGHT,
    })));
    const cardOf = new Map(cards.map(c => [c.node.id, c]));

    for (const e of edges) {
      const source = cardOf.get(e.edge.source);
      const target = cardOf.get(e.edge.destination);
      // Leaving a little above the middle and arriving a little below, so the two never share a run.
      const sy = source.y + CARD_HEIGHT / 2 - 5;
      const ty = target.y + CARD_HEIGHT / 2 + 5;
      const sx = e.outSide === 'right' ? source.x + source.width : source.x;
      const tx = e.inSide === 'right' ? target.x + target.width : target.x;
      const runY = bandTop[e.to.row] + BAND_PADDING / 2 + (e.slot + 1) * SLOT - 3;
      e.points = [[sx, sy], [e.a, sy], [e.a, runY], [e.b, runY], [e.b, ty], [tx, ty]];
      e.labelBox = { x: e.labelX, y: runY - SLOT + 4, width: e.labelWidth, height: SLOT - 5 };
    }
    const columns = names.map((name, column) => ({ name, x: columnX[column], width: columnWidth }));
    return { columns, cards, edges, width: totalWidth, height };
  }

  return { layout, edgeLabel, OUTSIDE };
})();
