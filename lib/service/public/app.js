// The solver page: ask /health which puzzle kind this server solves, show that kind's editor,
// POST the puzzle to /solve/<kind> with recordSteps, then replay the answer after every
// supervision step with its confidence sigmoid(q_halt): the recursion made visible.
// Plain browser JavaScript, no build step, no dependencies.
'use strict';

(function () {
  const $ = (id) => document.getElementById(id);
  const el = (tag, cls, text) => {
    const e = document.createElement(tag);
    if (cls) e.className = cls;
    if (text !== undefined) e.textContent = text;
    return e;
  };
  const pct = (x) => `${(x * 100).toFixed(x >= 0.995 || x < 0.001 ? 1 : 0)}%`;
  const reducedMotion = window.matchMedia('(prefers-reduced-motion: reduce)').matches;

  /**
   * Keyboard navigation for a grid of focusable cells (the ARIA grid pattern): one cell is in
   * the tab order, arrow keys (and Home/End) move focus between cells.
   */
  function rovingGrid(cells, cols) {
    cells.forEach((c, i) => c.setAttribute('tabindex', i === 0 ? '0' : '-1'));
    const focus = (i) => {
      cells.forEach((c) => c.setAttribute('tabindex', '-1'));
      cells[i].setAttribute('tabindex', '0');
      cells[i].focus();
    };
    cells.forEach((cell, i) => {
      cell.addEventListener('keydown', (e) => {
        const r = Math.floor(i / cols),
          c = i % cols,
          rows = cells.length / cols;
        const moves = {
          ArrowUp: [r - 1, c],
          ArrowDown: [r + 1, c],
          ArrowLeft: [r, c - 1],
          ArrowRight: [r, c + 1],
          Home: [r, 0],
          End: [r, cols - 1],
        };
        const to = moves[e.key];
        if (!to) return;
        e.preventDefault();
        const [nr, nc] = to;
        if (nr >= 0 && nr < rows && nc >= 0 && nc < cols) focus(nr * cols + nc);
      });
    });
    return focus;
  }

  /** The key under the answer: [class, sample text or null for a colour swatch, meaning]. */
  function setLegend(items) {
    const list = $('legend');
    list.textContent = '';
    for (const [cls, sample, text] of items) {
      const li = el('li');
      li.appendChild(sample === null ? el('span', `swatch ${cls}`) : el('span', `key ${cls}`, sample));
      li.appendChild(document.createTextNode(` ${text}`));
      list.appendChild(li);
    }
  }

  // ---------------------------------------------------------------- Examples
  /**
   * Puzzles like the served model's training data (GET /examples): its own test split, or
   * generated at the difficulty it was trained on. `next()` cycles through them; with none, the
   * kind's Example button is hidden and the page says why.
   */
  const examples = {
    source: '',
    items: [],
    at: -1,
    async load() {
      try {
        const res = await fetch('/examples');
        const data = await res.json();
        this.source = data.source || '';
        this.items = Array.isArray(data.items) ? data.items : [];
      } catch (e) {
        this.source = `none: the examples could not be loaded (${e.message})`;
      }
    },
    next() {
      if (this.items.length === 0) return null;
      this.at = (this.at + 1) % this.items.length;
      return this.items[this.at];
    },
    /** Shows where the examples come from under the panel, and hides `buttonId` when there are none. */
    show(kindName, buttonId) {
      $(`${kindName}-examples-source`).textContent = this.items.length
        ? `Examples: ${this.source}.`
        : `No examples: ${this.source.replace(/^none: /, '')}.`;
      $(buttonId).hidden = this.items.length === 0;
    },
  };

  // ---------------------------------------------------------------- Sudoku

  /**
   * 81 cells in 9 rows. The row wrappers carry the ARIA row role for the editable grid and are
   * invisible to the CSS grid layout (display: contents).
   */
  function sudokuCells(container, make, rowRole) {
    container.textContent = '';
    const cells = [];
    for (let r = 0; r < 9; r++) {
      const row = container.appendChild(el('div', 'row'));
      if (rowRole) row.setAttribute('role', 'row');
      for (let c = 0; c < 9; c++) {
        const cell = make(r, c);
        cell.classList.add('cell');
        if (c === 2 || c === 5) cell.classList.add('box-right');
        if (r === 2 || r === 5) cell.classList.add('box-bottom');
        if (c === 8) cell.classList.add('last-col');
        if (r === 8) cell.classList.add('last-row');
        row.appendChild(cell);
        cells.push(cell);
      }
    }
    return cells;
  }

  const sudoku = {
    inputs: [],
    outputs: [],
    init() {
      this.inputs = sudokuCells(
        $('sudoku-input'),
        (r, c) => {
          const cell = el('input');
          cell.type = 'text';
          cell.inputMode = 'numeric';
          cell.maxLength = 1;
          cell.autocomplete = 'off';
          cell.setAttribute('role', 'gridcell');
          cell.setAttribute('aria-label', `Row ${r + 1}, column ${c + 1}`);
          return cell;
        },
        true,
      );
      const focus = rovingGrid(this.inputs, 9);
      this.inputs.forEach((cell, i) => {
        cell.addEventListener('keydown', (e) => {
          if (/^[1-9]$/.test(e.key)) {
            e.preventDefault();
            cell.value = e.key;
            this.edited();
            if (i < 80) focus(i + 1);
          } else if (e.key === '0' || e.key === '.' || e.key === 'Backspace' || e.key === 'Delete') {
            e.preventDefault();
            cell.value = '';
            this.edited();
          } else if (e.key === 'Enter') {
            e.preventDefault();
            solve();
          }
        });
        cell.addEventListener('input', () => {
          cell.value = /^[1-9]$/.test(cell.value) ? cell.value : '';
          this.edited();
        });
        cell.addEventListener('paste', (e) => {
          const text = (e.clipboardData || window.clipboardData).getData('text');
          if (text.replace(/\s+/g, '').length >= 81) {
            e.preventDefault();
            this.load(text);
          }
        });
      });
      this.outputs = sudokuCells($('answer'), () => el('div'));
      $('answer').className = 'answer sudoku out';
      $('answer').setAttribute('role', 'img');
      $('answer').setAttribute('aria-label', "The model's answer");
      $('sudoku-load').addEventListener('click', () => this.load($('sudoku-paste').value));
      $('sudoku-paste').addEventListener('keydown', (e) => {
        if (e.key === 'Enter') this.load($('sudoku-paste').value);
      });
      $('sudoku-example').addEventListener('click', () => {
        const p = examples.next();
        if (p) this.load(p);
      });
      $('sudoku-clear').addEventListener('click', () => this.load('.'.repeat(81)));
      setLegend([
        ['given', '5', 'given'],
        ['predicted', '5', 'predicted'],
        ['wrong', '5', 'breaks a rule or a given'],
      ]);
      examples.show('sudoku', 'sudoku-example');
      this.load(examples.next() || '.'.repeat(81));
    },
    load(text) {
      const chars = String(text).replace(/\s+/g, '');
      if (chars.length !== 81 || /[^0-9.]/.test(chars)) {
        showInputError(
          `A puzzle is 81 characters of 1–9, . or 0; this has ${chars.length}${/[^0-9.]/.test(chars) ? ' and other characters' : ''}.`,
        );
        return;
      }
      showInputError('');
      this.inputs.forEach((cell, i) => {
        cell.value = /[1-9]/.test(chars[i]) ? chars[i] : '';
      });
      $('sudoku-paste').value = chars;
      resetResult();
    },
    /** After a cell edit: the paste box mirrors the grid, and the old answer no longer applies. */
    edited() {
      $('sudoku-paste').value = this.puzzle();
      resetResult();
    },
    puzzle() {
      return this.inputs.map((c) => c.value || '.').join('');
    },
    body(recordSteps) {
      return { puzzle: this.puzzle(), recordSteps };
    },
    /** Draws the answer after one step; cells that changed since the previous step flash. */
    draw(step, prev) {
      const givens = this.puzzle();
      const conflicts = sudokuConflicts(step.text);
      step.text.split('').forEach((ch, i) => {
        const cell = this.outputs[i];
        const digit = /[1-9]/.test(ch) ? ch : '';
        cell.textContent = digit;
        cell.classList.remove('given', 'predicted', 'changed', 'wrong', 'empty');
        cell.classList.add(givens[i] !== '.' ? 'given' : 'predicted');
        if (!digit) cell.classList.add('empty');
        if ((givens[i] !== '.' && digit !== givens[i]) || conflicts.has(i)) cell.classList.add('wrong');
        if (prev && prev.text[i] !== ch) {
          void cell.offsetWidth; // restart the flash animation
          cell.classList.add('changed');
        }
      });
    },
    clear() {
      this.outputs.forEach((cell) => {
        cell.textContent = '';
        cell.classList.remove('given', 'predicted', 'changed', 'wrong', 'empty');
      });
    },
    verdict(r) {
      return r.valid
        ? { ok: true, text: 'Rule check passed: a complete, valid Sudoku that keeps every given.' }
        : { ok: false, text: `Rule check failed: ${r.reason || 'not a valid solution'}. Cells in red break a rule or a given.` };
    },
  };

  /** Cells whose digit repeats in its row, column or box. */
  function sudokuConflicts(text) {
    const bad = new Set();
    const units = [];
    for (let k = 0; k < 9; k++) {
      const row = [],
        col = [],
        box = [];
      for (let j = 0; j < 9; j++) {
        row.push(k * 9 + j);
        col.push(j * 9 + k);
        box.push((Math.floor(k / 3) * 3 + Math.floor(j / 3)) * 9 + (k % 3) * 3 + (j % 3));
      }
      units.push(row, col, box);
    }
    for (const unit of units) {
      const seen = new Map();
      for (const i of unit) {
        const d = text[i];
        if (!/[1-9]/.test(d)) continue;
        if (seen.has(d)) {
          bad.add(i);
          bad.add(seen.get(d));
        } else seen.set(d, i);
      }
    }
    return bad;
  }

  // ---------------------------------------------------------------- Maze
  const MAZE_CLASS = { '#': 'wall', ' ': 'open', S: 'start', G: 'goal', o: 'path', '?': 'unknown' };
  const MAZE_NAME = { '#': 'wall', ' ': 'open', S: 'start', G: 'goal', o: 'path', '?': 'unknown' };

  const maze = {
    side: 15,
    maxSide: 30,
    cells: [],
    buttons: [],
    outputs: [],
    painting: null,
    focusCell: () => undefined,
    init(maxSide) {
      this.maxSide = maxSide;
      $('maze-size').max = String(maxSide);
      $('maze-size').value = String(Math.min(15, maxSide));
      $('maze-resize').addEventListener('click', () => this.reset(Number($('maze-size').value)));
      $('maze-example').addEventListener('click', () => {
        const m = examples.next();
        if (m) this.loadText(m);
      });
      $('maze-random').addEventListener('click', () => this.random(Number($('maze-size').value)));
      $('maze-load').addEventListener('click', () => this.loadText($('maze-paste').value));
      window.addEventListener('pointerup', () => {
        this.painting = null;
      });
      setLegend([
        ['wall', null, 'wall'],
        ['open', null, 'open'],
        ['start', null, 'start'],
        ['goal', null, 'goal'],
        ['path', null, 'predicted path'],
        ['unknown', null, 'no prediction'],
      ]);
      examples.show('maze', 'maze-example');
      const first = examples.next();
      if (first) this.loadText(first);
      else this.random(Math.min(15, maxSide));
    },
    tool() {
      return document.querySelector('input[name="maze-tool"]:checked').value;
    },
    reset(side) {
      if (!Number.isInteger(side) || side < 4 || side > this.maxSide) {
        showInputError(`The side must be a whole number from 4 to ${this.maxSide}.`);
        return;
      }
      const cells = [];
      for (let r = 0; r < side; r++)
        for (let c = 0; c < side; c++) cells.push(r === 0 || c === 0 || r === side - 1 || c === side - 1 ? '#' : ' ');
      cells[side + 1] = 'S';
      cells[(side - 2) * side + side - 2] = 'G';
      this.set(side, cells);
    },
    /** A random perfect maze (depth-first carving) with S and G in opposite corners. */
    random(side) {
      if (!Number.isInteger(side) || side < 4 || side > this.maxSide) return this.reset(side);
      const cells = new Array(side * side).fill('#');
      const odd = side % 2 === 1 ? side : side - 1;
      const stack = [[1, 1]];
      cells[side + 1] = ' ';
      while (stack.length) {
        const [r, c] = stack[stack.length - 1];
        const next = [
          [0, 2],
          [0, -2],
          [2, 0],
          [-2, 0],
        ]
          .map(([dr, dc]) => [r + dr, c + dc, r + dr / 2, c + dc / 2])
          .filter(([nr, nc]) => nr > 0 && nc > 0 && nr < odd - 1 && nc < odd - 1 && cells[nr * side + nc] === '#');
        if (!next.length) {
          stack.pop();
          continue;
        }
        const [nr, nc, wr, wc] = next[Math.floor(Math.random() * next.length)];
        cells[wr * side + wc] = ' ';
        cells[nr * side + nc] = ' ';
        stack.push([nr, nc]);
      }
      cells[side + 1] = 'S';
      cells[(odd - 2) * side + odd - 2] = 'G';
      this.set(side, cells);
    },
    loadText(text) {
      const rows = String(text)
        .replace(/\r/g, '')
        .split('\n')
        .filter((l, i, all) => l.length > 0 || i < all.length - 1);
      const side = rows.length;
      const bad = rows.findIndex((r) => r.length !== side || /[^# SG]/.test(r));
      if (side < 2 || side > this.maxSide || bad >= 0) {
        showInputError(
          side > this.maxSide
            ? `This model handles mazes up to ${this.maxSide}×${this.maxSide}.`
            : `A maze is square: ${side} rows of ${side} characters from "#", " ", "S" and "G"${bad >= 0 ? `; row ${bad + 1} is not` : ''}.`,
        );
        return;
      }
      this.set(side, rows.join('').split(''));
    },
    set(side, cells) {
      showInputError('');
      this.side = side;
      this.cells = cells;
      $('maze-size').value = String(side);
      const grid = $('maze-input');
      grid.textContent = '';
      grid.style.setProperty('--side', side);
      let row = null;
      this.buttons = cells.map((ch, i) => {
        const b = el('button', 'cell');
        b.type = 'button';
        b.setAttribute('role', 'gridcell');
        b.addEventListener('pointerdown', (e) => {
          e.preventDefault();
          // Touch captures the pointer to the first cell; release it so dragging paints.
          if (b.hasPointerCapture(e.pointerId)) b.releasePointerCapture(e.pointerId);
          this.focusCell(i);
          const tool = this.tool();
          // Dragging paints walls or clears them, whichever the first cell turned into.
          this.painting = tool === '#' && this.cells[i] === '#' ? ' ' : tool;
          this.apply(i, this.painting);
          if (tool === 'S' || tool === 'G') this.painting = null;
        });
        b.addEventListener('pointerenter', () => {
          if (this.painting === '#' || this.painting === ' ') this.apply(i, this.painting);
        });
        b.addEventListener('keydown', (e) => {
          if (e.key === ' ' || e.key === 'Enter') {
            e.preventDefault();
            const tool = this.tool();
            this.apply(i, tool === '#' && this.cells[i] === '#' ? ' ' : tool);
          }
        });
        if (i % side === 0) {
          row = grid.appendChild(el('div', 'row'));
          row.setAttribute('role', 'row');
        }
        row.appendChild(b);
        return b;
      });
      this.focusCell = rovingGrid(this.buttons, side);
      this.buttons.forEach((_, i) => this.paint(i));
      const answer = $('answer');
      answer.className = 'answer maze out';
      answer.setAttribute('role', 'img');
      answer.setAttribute('aria-label', "The model's answer: the maze with its predicted path");
      answer.style.setProperty('--side', side);
      answer.textContent = '';
      this.outputs = cells.map(() => answer.appendChild(el('div', 'cell')));
      this.clear();
      $('maze-paste').value = this.text();
      resetResult();
    },
    apply(i, ch) {
      if (ch === 'S' || ch === 'G') {
        const old = this.cells.indexOf(ch);
        if (old >= 0) {
          this.cells[old] = ' ';
          this.paint(old);
        }
      }
      this.cells[i] = ch;
      this.paint(i);
      $('maze-paste').value = this.text();
      resetResult();
    },
    paint(i) {
      const ch = this.cells[i];
      const b = this.buttons[i];
      b.className = `cell ${MAZE_CLASS[ch]}`;
      b.setAttribute('aria-label', `Row ${Math.floor(i / this.side) + 1}, column ${(i % this.side) + 1}: ${MAZE_NAME[ch]}`);
    },
    text() {
      const rows = [];
      for (let r = 0; r < this.side; r++) rows.push(this.cells.slice(r * this.side, (r + 1) * this.side).join(''));
      return rows.join('\n');
    },
    body(recordSteps) {
      return { maze: this.text(), recordSteps };
    },
    draw(step, prev) {
      const chars = step.rows.join('');
      const before = prev ? prev.rows.join('') : null;
      this.outputs.forEach((cell, i) => {
        cell.className = `cell ${MAZE_CLASS[chars[i]] || 'unknown'}${before && before[i] !== chars[i] ? ' changed' : ''}`;
      });
    },
    clear() {
      this.outputs.forEach((cell, i) => {
        cell.className = `cell ${MAZE_CLASS[this.cells[i]]} faded`;
      });
    },
    verdict(r) {
      if (r.valid)
        return {
          ok: true,
          text: `Rule check passed: ${r.optimal ? `a shortest path from S to G, ${r.pathLength} cells` : `a path from S to G (${r.pathLength} cells), not the shortest`}.`,
        };
      return { ok: false, text: `Rule check failed: ${r.reason || 'the predicted path does not connect S to G'}.` };
    },
  };

  // ---------------------------------------------------------------- ARC
  const arc = {
    task: null,
    loadedText: null,
    init() {
      $('arc-load').addEventListener('click', () => this.load());
      $('arc-example').addEventListener('click', () => {
        const ex = examples.next();
        if (!ex) return;
        $('arc-json').value = JSON.stringify(ex.task);
        $('arc-task-id').value = ex.taskId;
        this.load();
      });
      examples.show('arc', 'arc-example');
      $('arc-test').addEventListener('change', () => this.preview());
      $('answer').className = 'answer arc out';
    },
    load() {
      let doc;
      try {
        doc = JSON.parse($('arc-json').value);
      } catch (e) {
        showInputError(`The task is not valid JSON: ${e.message}`);
        return false;
      }
      // A task {train, test}, or a challenges file {id: task} (its first task is used).
      if (doc && !Array.isArray(doc.test)) {
        const id = Object.keys(doc || {}).find((k) => doc[k] && Array.isArray(doc[k].test));
        if (!id) {
          showInputError('Expected an ARC task: {"train": [{"input": grid, "output": grid}…], "test": [{"input": grid}…]}.');
          return false;
        }
        if (!$('arc-task-id').value) $('arc-task-id').value = id;
        doc = doc[id];
      }
      if (!doc || !Array.isArray(doc.test) || doc.test.length === 0) {
        showInputError('The task has no test inputs.');
        return false;
      }
      showInputError('');
      this.task = doc;
      this.loadedText = $('arc-json').value;
      const select = $('arc-test');
      select.textContent = '';
      doc.test.forEach((_, i) => {
        const o = el('option', '', String(i + 1));
        o.value = String(i);
        select.appendChild(o);
      });
      this.preview();
      return true;
    },
    preview() {
      const box = $('arc-preview');
      box.textContent = '';
      if (!this.task) return;
      const t = this.task.test[Number($('arc-test').value) || 0];
      box.appendChild(arcPair('Test', t.input, null));
      (this.task.train || []).forEach((p, i) => box.appendChild(arcPair(`Demonstration ${i + 1}`, p.input, p.output)));
      resetResult();
    },
    body(recordSteps) {
      if ((!this.task || this.loadedText !== $('arc-json').value) && !this.load()) return null;
      const taskId = $('arc-task-id').value.trim();
      if (!taskId) {
        showInputError('Give the task id: the model knows a task through the puzzle embeddings it learned for it.');
        return null;
      }
      const t = this.task.test[Number($('arc-test').value) || 0];
      return { taskId, input: t.input, train: this.task.train, recordSteps };
    },
    draw(step) {
      const answer = $('answer');
      answer.textContent = '';
      answer.appendChild(arcGrid(step.attempt.grid, `Top attempt: ${step.attempt.votes} votes`));
    },
    clear() {
      $('answer').textContent = '';
    },
    drawFinal(r) {
      const answer = $('answer');
      answer.textContent = '';
      const expected = this.task && this.task.test[Number($('arc-test').value) || 0].output;
      r.attempts.forEach((a, k) => {
        const correct = expected ? JSON.stringify(a.grid) === JSON.stringify(expected) : null;
        const label = `Attempt ${k + 1}: ${a.votes} of ${r.versions} votes, confidence ${pct(a.confidence)}${correct === null ? '' : correct ? ' (correct)' : ' (wrong)'}`;
        answer.appendChild(arcGrid(a.grid, label));
      });
    },
    verdict(r) {
      return {
        ok: r.attempts.length > 0,
        text: `No rule check exists for ARC: ${r.attempts.length} attempt${r.attempts.length === 1 ? '' : 's'} voted over ${r.versions} augmented versions, and only the model vouches for them.`,
      };
    },
  };

  function arcGrid(grid, caption) {
    const fig = el('figure', 'arc-figure');
    const g = el('div', 'arc-grid');
    g.style.setProperty('--rows', grid.length);
    g.style.setProperty('--cols', grid[0] ? grid[0].length : 0);
    g.setAttribute('role', 'img');
    g.setAttribute('aria-label', `${grid.length} by ${grid[0] ? grid[0].length : 0} grid`);
    grid.forEach((row) => row.forEach((v) => g.appendChild(el('div', `c${v}`))));
    fig.appendChild(g);
    if (caption) fig.appendChild(el('figcaption', '', caption));
    return fig;
  }

  function arcPair(title, input, output) {
    const wrap = el('div', 'arc-pair');
    wrap.appendChild(arcGrid(input, `${title}: input`));
    if (output) {
      const arrow = wrap.appendChild(el('span', 'arrow', '→'));
      arrow.setAttribute('aria-hidden', 'true');
      wrap.appendChild(arcGrid(output, 'output'));
    }
    return wrap;
  }

  // ---------------------------------------------------------------- Solving and the replay
  const KINDS = { sudoku, maze, arc };
  let kind = null;
  let lastResult = null;
  let playToken = 0;

  function showInputError(message) {
    $('input-error').textContent = message;
  }

  function setState(state) {
    $('result').dataset.state = state;
    $('solve').disabled = state === 'solving' || kind === null;
  }

  /** The confidence (0 for an answer that breaks a rule) and, when they differ, the model's own estimate. */
  function setConfidence(x, model) {
    $('confidence-value').textContent = x === null ? '–' : pct(x);
    $('confidence-bar').style.width = x === null ? '0' : `${Math.max(0, Math.min(1, x)) * 100}%`;
    $('confidence-bar').classList.toggle('high', x !== null && x >= 0.5);
    $('model-confidence').textContent =
      x !== null && model !== undefined && model !== x
        ? `The model itself estimated ${pct(model)} (sigmoid(q_halt)), but the answer breaks a rule.`
        : '';
  }

  function resetResult() {
    playToken++;
    lastResult = null;
    if (kind) KINDS[kind].clear();
    $('timeline').textContent = '';
    $('step-label').textContent = 'not solved yet';
    $('verdict').textContent = '';
    $('verdict').className = 'verdict';
    setConfidence(null);
    setState('idle');
  }

  /** The steps to replay: the trace when present, else just the final answer. */
  function stepsOf(r) {
    const conf = (s) => (kind === 'arc' ? s.attempt.confidence : s.confidence);
    const model = (s) => (kind === 'arc' ? s.attempt.confidence : s.modelConfidence);
    const trace =
      r.trace && r.trace.length ? r.trace : [kind === 'arc' ? { attempt: r.attempts[0] || { grid: [[0]], votes: 0, confidence: 0 } } : r];
    return trace.map((s) => ({ step: s, confidence: conf(s), model: model(s) }));
  }

  function buildTimeline(steps) {
    const list = $('timeline');
    list.textContent = '';
    steps.forEach((s, k) => {
      const li = el('li');
      const b = el('button', 'tick');
      b.type = 'button';
      b.setAttribute('aria-label', `Show step ${k + 1}: confidence ${pct(s.confidence)}`);
      b.title = `step ${k + 1}: ${pct(s.confidence)}`;
      const bar = el('span', 'bar');
      bar.style.height = `${Math.max(4, s.confidence * 100)}%`;
      b.appendChild(bar);
      b.appendChild(el('span', 'num', String(k + 1)));
      b.addEventListener('click', () => {
        playToken++;
        show(steps, k);
        finish(lastResult, k);
      });
      li.appendChild(b);
      list.appendChild(li);
    });
  }

  function show(steps, k) {
    const cur = steps[k],
      prev = k > 0 ? steps[k - 1] : null;
    KINDS[kind].draw(cur.step, prev && prev.step);
    setConfidence(cur.confidence, cur.model);
    $('step-label').textContent = `step ${k + 1} of ${steps.length}`;
    [...$('timeline').children].forEach((li, i) => {
      li.classList.toggle('seen', i <= k);
      li.classList.toggle('current', i === k);
    });
    $('status').textContent = `Step ${k + 1} of ${steps.length}, confidence ${pct(cur.confidence)}`;
  }

  function finish(r, shownStep) {
    const steps = stepsOf(r);
    const last = shownStep === undefined || shownStep === steps.length - 1;
    if (last && kind === 'arc') arc.drawFinal(r);
    if (last) setConfidence(r.confidence, kind === 'arc' ? r.confidence : r.modelConfidence);
    const v = KINDS[kind].verdict(r);
    const verdict = $('verdict');
    verdict.className = `verdict ${v.ok ? 'ok' : 'bad'}`;
    verdict.textContent = `${v.text} ${r.steps} supervision step${r.steps === 1 ? '' : 's'}, ${Math.round(r.elapsedMs)} ms.`;
    setState('done');
  }

  /** Replays the steps, one every `delay` ms; a newer replay or edit cancels this one. */
  async function play(r) {
    const token = ++playToken;
    const steps = stepsOf(r);
    buildTimeline(steps);
    setState('animating');
    const delay = reducedMotion ? 0 : Math.max(180, Math.min(650, 2400 / steps.length));
    for (let k = 0; k < steps.length; k++) {
      if (token !== playToken) return;
      show(steps, k);
      if (k < steps.length - 1) await new Promise((res) => setTimeout(res, delay));
    }
    if (token === playToken) finish(r);
  }

  async function solve() {
    if (!kind || $('result').dataset.state === 'solving') return;
    showInputError('');
    const body = KINDS[kind].body(true);
    if (!body) return;
    const token = ++playToken; // an edit while solving makes the answer stale (resetResult bumps it)
    setState('solving');
    $('step-label').textContent = 'solving…';
    $('status').textContent = 'Solving…';
    try {
      const res = await fetch(`/solve/${kind}`, {
        method: 'POST',
        headers: { 'content-type': 'application/json' },
        body: JSON.stringify(body),
      });
      const data = await res.json().catch(() => ({ error: { code: `HTTP ${res.status}`, message: res.statusText } }));
      if (!res.ok) {
        const e = data.error || { code: `HTTP ${res.status}`, message: res.statusText };
        throw new Error(`${e.message} (${e.code})`);
      }
      if (token !== playToken) return;
      lastResult = data;
      await play(data);
    } catch (e) {
      if (token !== playToken) return;
      setState('error');
      $('step-label').textContent = 'error';
      showInputError(e.message);
      $('status').textContent = `Error: ${e.message}`;
    }
  }

  /** What the model card says the model was trained on, and its held-out scores. */
  function trainedOn(card) {
    if (!card) return 'This checkpoint does not say what the model was trained on.';
    const scores = (card.scores || [])
      .filter((s) => s.blanks !== undefined)
      .map((s) => `${s.blanks} blanks ${pct(s.exactAccuracy)}`)
      .join(', ');
    return `Trained on ${card.trainedOn}.${scores ? ` Held-out exact accuracy: ${scores}.` : ''}`;
  }

  async function start() {
    $('solve').addEventListener('click', solve);
    let health;
    try {
      const res = await fetch('/health');
      health = await res.json();
      if (!health.kind) throw new Error('no kind in /health');
    } catch (e) {
      $('model-info').textContent = `The solver is not reachable (${e.message}).`;
      return;
    }
    kind = health.kind;
    const m = health.model;
    const info = [`solves ${kind}`];
    if (m)
      info.push(
        `${m.arch.toUpperCase()} · hidden ${m.hiddenSize} · T=${m.hCycles}, n=${m.lCycles} · up to ${m.haltMaxSteps} steps${health.earlyHalt ? ', early halting' : ''}`,
      );
    $('model-info').textContent = info.join(' · ');
    $('trained-on').textContent = trainedOn(health.card);
    if (kind === 'arc')
      $('confidence-help').textContent =
        "ARC has no rule check: the confidence is the model's own estimate sigmoid(q_halt) alone, averaged over the versions that voted for the attempt.";
    await examples.load();
    $('api-route').textContent = `/solve/${kind}`;
    $('input-title').textContent = { sudoku: 'Sudoku', maze: 'Maze', arc: 'ARC task' }[kind];
    $(`panel-${kind}`).hidden = false;
    const maxSide = m ? Math.min(health.limits.maxGrid, Math.round(Math.sqrt(m.seqLen))) : health.limits.maxGrid;
    KINDS[kind].init(maxSide);
    setState('idle');
    document.body.dataset.ready = 'true';
  }

  document.addEventListener('DOMContentLoaded', start);
})();
