/**
 * The armor-integration dialog, served from this package's resources/ folder and loaded by
 * nodes/armor-integration.html after armor-editor.js:
 *
 *   <script src="resources/@armor/node-red-integrations/armor-integration-editor.js"></script>
 *
 * The editor never reads XML: the runtime's parser does (src/config.ts), through the admin
 * endpoints POST armor-integration/check and POST armor-integration/import. For a pasted text
 * they answer, beside the runtime's messages, where each <integration> block is and where its
 * <hook_url> / <api_key> is (offsets into the text sent); the editor edits the text at those
 * offsets. What the runtime says is shown as text (.text(), never .html()).
 *
 * Its parts, one concern each:
 *   config     what the runtime says about an XML text (asked once per text, kept for the page)
 *   secrets    a literal secret of the XML moved into a new config node's credentials
 *   delivery   the Slack / PagerDuty nodes (and config nodes) an import creates and wires
 *   rows       the form: one editable row per integration, and the runtime's errors on them
 *   explain    an alert checked against the config, verdict per integration
 *   check      the runtime's validation of what the dialog holds, as it is typed
 *   importBox  the tray to paste a manager's config into, and what importing it does
 *   dialog     oneditprepare / oneditsave / oneditcancel, which put the parts together
 */
(function () {
  'use strict';
  // the editor loads a node's scripts side by side, in any order: whichever comes first makes the namespace
  var ArmorEditor = (window.ArmorEditor = window.ArmorEditor || {});
  if (ArmorEditor.integration) return;

  var NAMES = ['slack', 'pagerduty', 'virustotal', 'shuffle', 'maltiverse', 'custom-'];
  var MORE = ['exclude_group', 'exclude_rule_id', 'exclude_location', 'options', 'max_log', 'timeout', 'retries'];
  /** The integrations this package delivers, their node, config node and where the secret goes. */
  var DELIVERY = {
    slack: { type: 'armor-slack', prop: 'webhook', config: 'armor-slack-webhook', credential: 'url', tag: 'hook_url' },
    pagerduty: { type: 'armor-pagerduty', prop: 'service', config: 'armor-pagerduty-service', credential: 'routingKey', tag: 'api_key' },
  };
  var ERROR_COLOUR = 'var(--red-ui-text-color-error, #c00)';
  var OK_COLOUR = '#3a7d2c';
  var WARNING_COLOUR = '#a66f00';

  /** The seed's spelling `pagerdty` is the runtime's `pagerduty`. */
  function normalName(name) {
    return name === 'pagerdty' ? 'pagerduty' : name;
  }

  function postJson(url, body, options) {
    return $.ajax($.extend({ url: url, type: 'POST', contentType: 'application/json', data: JSON.stringify(body) }, options));
  }

  // ------------------------------------------------------------------ config

  /** The runtime's answers about XML texts, by text (the last few: a text is asked about once). */
  var answers = {};
  var answered = [];
  var asking = {};
  var KEPT_ANSWERS = 50;

  function remember(xml, res) {
    if (!Object.prototype.hasOwnProperty.call(answers, xml)) {
      answered.push(xml);
      if (answered.length > KEPT_ANSWERS) delete answers[answered.shift()];
    }
    answers[xml] = res;
  }

  /** What the runtime said about `xml`, if it has been asked. */
  function answerOf(xml) {
    return Object.prototype.hasOwnProperty.call(answers, xml) ? answers[xml] : undefined;
  }

  /**
   * What the runtime says about `xml` now: its answer when known, else asked in the background
   * (undefined until then); nodes holding that text are validated and drawn again once it comes.
   */
  function known(xml) {
    xml = String(xml || '');
    var res = answerOf(xml);
    if (res || !xml.trim() || asking[xml]) return res;
    asking[xml] = true;
    postJson('armor-integration/check', { mode: 'xml', xml: xml }, { global: false })
      .done(function (answer) {
        remember(xml, answer);
        RED.nodes.eachNode(function (n) {
          if (n.type === 'armor-integration' && n.mode === 'xml' && n.xml === xml) {
            RED.editor.validateNode(n);
            n.dirty = true;
          }
        });
        RED.view.redraw(true);
      })
      .always(function () {
        delete asking[xml];
      });
    return undefined;
  }

  /** What the runtime says about `xml`, waited for (on save, when the answer to the text as typed has not come yet). */
  function answerNow(xml) {
    var res = answerOf(xml);
    if (res) return res;
    var xhr = postJson('armor-integration/check', { mode: 'xml', xml: xml }, { async: false, global: false });
    if (xhr.status !== 200 || !xhr.responseJSON) return undefined;
    remember(xml, xhr.responseJSON);
    return xhr.responseJSON;
  }

  /** The text cannot be read as XML at all (an error of the document as a whole). */
  function documentFailed(res) {
    return (res.errors || []).some(function (e) {
      return e.block < 0;
    });
  }

  /** The names of the node's integrations, one per output. */
  function names(node) {
    if (node.mode === 'form')
      return (node.rules || []).map(function (r) {
        return r.name;
      });
    if (node.mode !== 'xml') return [];
    var res = known(node.xml);
    return res
      ? (res.blocks || []).map(function (b) {
          return b.name || '';
        })
      : [];
  }

  /**
   * Whether an XML text holds a block, as far as the runtime has said (`fallback` until it has;
   * not asked from here: the editor validates at every key typed).
   */
  function hasBlocks(xml, fallback) {
    var res = answerOf(String(xml || ''));
    return res ? (res.blocks || []).length > 0 : fallback;
  }

  // ------------------------------------------------------------------ secrets

  var XML_ENTITIES = { amp: '&', lt: '<', gt: '>', quot: '"', apos: "'" };

  /** Character data with its entity references decoded (the runtime has checked them). */
  function decodeEntities(text) {
    return text.replace(/&(#x[0-9a-fA-F]+|#[0-9]+|[a-z]+);/g, function (reference, body) {
      if (body[0] !== '#') return Object.prototype.hasOwnProperty.call(XML_ENTITIES, body) ? XML_ENTITIES[body] : reference;
      return String.fromCodePoint(body[1] === 'x' ? parseInt(body.slice(2), 16) : parseInt(body.slice(1), 10));
    });
  }

  /** The value of a secret the runtime located in `xml` (its pieces, decoded and trimmed); undefined when empty. */
  function valueAt(xml, secret) {
    var value = secret.parts
      .map(function (p) {
        var text = xml.slice(p.start, p.end);
        return p.cdata ? text : decodeEntities(text);
      })
      .join('')
      .trim();
    return value === '' ? undefined : value;
  }

  /** `xml` with each edit ({ start, end, text }, not overlapping) made, the last first so that the offsets hold. */
  function edited(xml, edits) {
    return edits
      .slice()
      .sort(function (a, b) {
        return b.start - a.start;
      })
      .reduce(function (text, e) {
        return text.slice(0, e.start) + e.text + text.slice(e.end);
      }, xml);
  }

  /**
   * Secrets do not stay in the flow: a literal <hook_url> of a slack block or <api_key> of a
   * pagerduty block becomes the credential of a new config node, and the element becomes a
   * comment saying where it went. ${ENV} references stay (they are not secrets). `blocks`: the
   * runtime's positions of the blocks in `xml`.
   */
  function moveSecrets(xml, blocks) {
    var moved = [];
    var edits = [];
    blocks.forEach(function (block) {
      var spec = DELIVERY[block.name];
      var secret = spec && block[spec.tag];
      var value = secret && !secret.reference ? valueAt(xml, secret) : undefined;
      if (value === undefined) return;
      var label = block.name + ' #' + (block.index + 1) + ' (imported)';
      var credentials = {};
      credentials[spec.credential] = value;
      var def = RED.nodes.getType(spec.config);
      var config = {
        id: RED.nodes.id(),
        type: spec.config,
        name: label,
        version: armorContracts.setting(spec.config, 'Version'),
        z: '',
        users: [],
        credentials: credentials,
        _def: def,
      };
      if (spec.config === 'armor-pagerduty-service') config.region = 'us';
      // the other properties at their defaults (pace, outbox...), or the new node is invalid
      Object.keys(def.defaults).forEach(function (k) {
        if (config[k] === undefined) config[k] = JSON.parse(JSON.stringify(def.defaults[k].value));
      });
      RED.nodes.add(config);
      moved.push(label);
      edits.push({
        start: secret.start,
        end: secret.end,
        text: '<!-- ' + spec.tag + ' moved to the credentials of config node "' + label + '" -->',
      });
    });
    return { xml: edited(xml, edits), moved: moved };
  }

  // ------------------------------------------------------------------ delivery

  /** The node of `type` wired to output `port` of `node`, if any. */
  function deliveryNodeAt(node, port, type) {
    var link = RED.nodes.filterLinks({ source: node, sourcePort: port }).filter(function (l) {
      return l.target.type === type;
    })[0];
    return link ? link.target : null;
  }

  /** A config node of `type` that this editor already holds with this credential (made by an earlier import). */
  function configWithSecret(type, credential, value) {
    var found = null;
    RED.nodes.eachConfig(function (c) {
      if (!found && c.type === type && c.credentials && c.credentials[credential] === value) found = c;
    });
    return found;
  }

  /** The config node `w` (an import's wish for a delivery node) needs: one already there with its secret, or a new one in `flow`. */
  function configFor(w, spec, configs, flow) {
    var key = spec.config + '\n' + w.secret;
    if (!configs[key]) {
      var existing = configWithSecret(spec.config, spec.credential, w.secret);
      if (existing) configs[key] = existing.id;
      else {
        var config = { id: RED.nodes.id(), type: spec.config, version: armorContracts.setting(spec.config, 'Version'), credentials: {} };
        config.name = w.reference ? w.secret : 'block #' + (w.block + 1) + ' (imported)';
        config.credentials[spec.credential] = w.secret;
        if (spec.config === 'armor-pagerduty-service') config.region = 'us';
        flow.push(config);
        configs[key] = config.id;
      }
    }
    return configs[key];
  }

  /**
   * Adds the delivery nodes an import asked for (and their config nodes, one per distinct
   * secret), to the right of `node`. Returns the history event, whose links are added by
   * `wire()` once the editor has moved the existing wires to the new outputs.
   */
  function createDeliveryNodes(node, wanted, total) {
    var flow = [];
    var configs = {};
    var made = [];
    wanted.forEach(function (w) {
      var spec = DELIVERY[w.name];
      var delivery = {
        id: RED.nodes.id(),
        type: spec.type,
        z: node.z,
        name: '',
        version: armorContracts.setting(spec.type, 'Version'),
        x: node.x,
        y: node.y,
        wires: [[], []],
      };
      delivery[spec.prop] = w.secret !== undefined ? configFor(w, spec, configs, flow) : '';
      if (spec.type === 'armor-slack') {
        delivery.layout = RED.settings.armorSlackDefaults.layout;
        delivery.dedupWindow = '';
      }
      flow.push(delivery);
      made.push({ id: delivery.id, port: w.port });
    });
    var event = { t: 'add', nodes: [], links: [], dirty: RED.nodes.dirty() };
    if (!flow.length) return null;
    var result = RED.nodes.import(flow, { markChanged: true, applyNodeDefaults: true });
    event.nodes = result.nodes.map(function (n) {
      return n.id;
    });
    event.wire = function () {
      RED.view.redraw(true, true); // now: sizes the node for its new label and outputs
      // a column right of the node and of what its outputs are wired to already, a row per output
      var column = node.x + (node.w || 140) / 2 + 180;
      RED.nodes.filterLinks({ source: node }).forEach(function (l) {
        column = Math.max(column, l.target.x + (l.target.w || 140) / 2 + 180);
      });
      made.forEach(function (m) {
        var target = RED.nodes.node(m.id);
        target.x = column;
        target.y = node.y + (m.port - (total - 1) / 2) * 60;
        target.dirty = true;
        var link = { source: node, sourcePort: m.port, target: target };
        RED.nodes.addLink(link);
        event.links.push(link);
      });
      delete event.wire;
      RED.view.redraw(true);
    };
    event.counts = { nodes: made.length, configs: flow.length - made.length };
    return event;
  }

  // ------------------------------------------------------------------ rows

  /** One labelled input of a row, bound to `row[key]`; the dialog checks again as it is typed. */
  function field(d, row, key, labelKey, placeholder, width) {
    var wrap = $('<span class="armor-field"/>').css({ display: 'inline-block', marginRight: '6px', marginBottom: '4px' });
    $('<label/>')
      .text(d.node._('armor-integration.label.' + labelKey))
      .css({ width: 'auto', marginRight: '4px' })
      .appendTo(wrap);
    var input = $('<input type="text"/>')
      .addClass('armor-' + key)
      .attr('data-tag', key)
      .css('width', width || '120px')
      .val(row[key] || '');
    if (placeholder) input.attr('placeholder', placeholder);
    input.on('input change', d.scheduleCheck).appendTo(wrap);
    return wrap;
  }

  /** The inputs of one form row: name, level, rule ids; groups, location and its syntax; the rest under "More…". */
  function addRow(d, container, row) {
    var node = d.node;
    if (!row.name) row.name = 'slack';
    var top = $('<div/>').appendTo(container);
    $('<span class="armor-output"/>').css({ marginRight: '6px', fontWeight: 'bold' }).appendTo(top);
    var nameInput = $('<input type="text" list="armor-integration-names" class="armor-name" data-tag="name"/>')
      .css('width', '130px')
      .val(row.name);
    nameInput.on('input change', d.scheduleCheck);
    top.append($('<span/>').css('margin-right', '6px').append(nameInput));
    top.append(field(d, row, 'level', 'level', '0-16', '50px'));
    top.append(field(d, row, 'rule_id', 'ruleId', node._('armor-integration.placeholder.ruleId'), '110px'));
    var second = $('<div/>').appendTo(container);
    second.append(field(d, row, 'group', 'group', node._('armor-integration.placeholder.group'), '230px'));
    second.append(field(d, row, 'event_location', 'location', node._('armor-integration.placeholder.location'), '170px'));
    var syntax = $('<select class="armor-location_syntax"/>')
      .css('width', '100px')
      .append('<option value="os_regex">OS_Regex</option><option value="os_match">OS_Match</option>')
      .val(row.location_syntax || 'os_regex')
      .on('change', d.scheduleCheck);
    second.append(syntax);
    var toggle = $('<a href="#" class="red-ui-button red-ui-button-small armor-more-toggle"/>').text(
      node._('armor-integration.label.more'),
    );
    var more = $('<div class="armor-more"/>').hide().appendTo(container);
    toggle.on('click', function (e) {
      e.preventDefault();
      more.toggle();
    });
    second.append(' ').append(toggle);
    more.append(field(d, row, 'exclude_group', 'excludeGroup', '', '150px'));
    more.append(field(d, row, 'exclude_rule_id', 'excludeRuleId', '', '100px'));
    more.append(field(d, row, 'exclude_location', 'excludeLocation', '', '150px'));
    more.append(field(d, row, 'options', 'options', '{"channel":"#soc"}', '230px'));
    more.append(field(d, row, 'max_log', 'maxLog', '165', '50px'));
    more.append(field(d, row, 'timeout', 'timeout', String(RED.settings.armorIntegrationDefaults.timeout), '40px'));
    more.append(field(d, row, 'retries', 'retries', String(RED.settings.armorIntegrationDefaults.retries), '40px'));
    if (
      MORE.some(function (k) {
        return row[k];
      })
    )
      more.show();
    $('<div class="armor-row-errors"/>').css({ color: ERROR_COLOUR, fontSize: '0.9em' }).appendTo(container);
  }

  /** The form's editable list of rows; each row keeps `_port`, the output it had when the dialog opened. */
  function rowList(d) {
    var changed = function () {
      renumber(d);
      d.scheduleCheck();
    };
    d.list = $('#node-input-rules-container')
      .css({ minWidth: '480px' })
      .editableList({
        addButton: d.node._('armor-integration.label.add'),
        removable: true,
        sortable: true,
        height: 'auto',
        addItem: function (container, i, row) {
          addRow(d, container, row);
          changed();
        },
        removeItem: changed,
        sortItems: changed,
      });
    $('<datalist id="armor-integration-names"/>')
      .append(
        NAMES.map(function (n) {
          return $('<option/>').attr('value', n);
        }),
      )
      .appendTo('#dialog-form');
    (d.node.rules || []).forEach(function (row, k) {
      d.list.editableList('addItem', $.extend({}, row, { _port: k < d.openedOutputs ? k : undefined }));
    });
  }

  function renumber(d) {
    d.list.editableList('items').each(function (k) {
      $(this)
        .find('.armor-output')
        .text('#' + (k + 1));
    });
  }

  function rowsFromForm(d) {
    var rows = [];
    d.list.editableList('items').each(function () {
      var item = $(this);
      var row = { name: item.find('.armor-name').val().trim(), location_syntax: item.find('.armor-location_syntax').val() };
      ['level', 'rule_id', 'group', 'event_location'].concat(MORE).forEach(function (k) {
        var v = item.find('.armor-' + k).val();
        if (v !== undefined && String(v).trim() !== '') row[k] = String(v);
      });
      rows.push(row);
    });
    return rows;
  }

  /** Marks the field of each per-row error red, with the runtime's message as its tooltip; returns the errors of no row. */
  function markFields(d, errors) {
    var items = d.list.editableList('items');
    items.each(function () {
      $(this).find('.armor-row-errors').empty();
      $(this).find('[data-tag]').removeClass('input-error').removeAttr('title');
    });
    var unplaced = [];
    errors.forEach(function (e) {
      var item = e.block >= 0 && items[e.block] ? $(items[e.block]) : $();
      if (!item.length) {
        unplaced.push(e);
        return;
      }
      item.find('.armor-row-errors').append($('<div class="armor-row-error"/>').text(e.message));
      var input = e.tag
        ? item.find('[data-tag]').filter(function () {
            return $(this).attr('data-tag') === e.tag;
          })
        : $();
      if (input.length) {
        input.addClass('input-error').attr('title', e.message);
        if (input.closest('.armor-more').length) input.closest('.armor-more').show();
      }
    });
    return unplaced;
  }

  /** The outputs the node has now: form rows (with the output they had), or the names of the XML as opened. */
  function currentOutputs(d) {
    if ($('#node-input-mode').val() !== 'form') {
      return names(d.node).map(function (name, k) {
        return { name: name, port: k < d.openedOutputs ? k : undefined };
      });
    }
    var out = [];
    d.list.editableList('items').each(function () {
      out.push({ name: normalName(String($(this).find('.armor-name').val() || '').trim()), port: $(this).data('data')._port });
    });
    return out;
  }

  // ------------------------------------------------------------------ explain

  /** The alert of the explain box: undefined when empty, { error } when it is not JSON. */
  function explainAlert() {
    var text = String($('#armor-integration-alert').val() || '').trim();
    if (!text) return undefined;
    try {
      return { alert: JSON.parse(text) };
    } catch (e) {
      return { error: e.message };
    }
  }

  /** One block's verdict: passes or fails, and each filter's reason. */
  function showVerdict(d, div, b, entry) {
    var pass = entry.verdict.pass;
    div.addClass(pass ? 'armor-verdict-pass' : 'armor-verdict-fail');
    $('<div/>')
      .css({ fontWeight: 'bold', color: pass ? OK_COLOUR : ERROR_COLOUR })
      .text(
        (pass ? '✓ ' : '✗ ') +
          '#' +
          (b + 1) +
          ' ' +
          entry.integration.name +
          ': ' +
          d.node._(pass ? 'armor-integration.explain.passes' : 'armor-integration.explain.fails', { output: b + 1 }),
      )
      .appendTo(div);
    var checks = $('<ul class="armor-checks"/>').css({ margin: '2px 0 0 18px' }).appendTo(div);
    entry.verdict.checks.forEach(function (c) {
      $('<li/>')
        .addClass(c.pass ? 'armor-check-pass' : 'armor-check-fail')
        .attr('data-filter', c.filter)
        .text((c.pass ? '✓ ' : '✗ ') + c.filter + ': ' + c.reason)
        .appendTo(checks);
    });
    if (!entry.verdict.checks.length) $('<li/>').text(d.node._('armor-integration.explain.noFilter')).appendTo(checks);
  }

  /** The verdicts of the runtime's check for the explained alert, one per block (blocks with errors say so). */
  function showVerdicts(d, res, found) {
    var box = $('#armor-integration-verdicts').empty();
    if (!found) return;
    if (found.error) {
      $('<div class="armor-verdict-error"/>')
        .text(d.node._('armor-integration.explain.notJson', { error: found.error }))
        .appendTo(box);
      return;
    }
    var byBlock = {};
    (res.integrations || []).forEach(function (integration, k) {
      byBlock[integration.index] = { integration: integration, verdict: (res.verdicts || [])[k] };
    });
    var blocks = res.integrations.length
      ? Math.max.apply(
          null,
          res.integrations.map(function (x) {
            return x.index;
          }),
        ) + 1
      : 0;
    (res.errors || []).forEach(function (e) {
      if (e.block >= blocks) blocks = e.block + 1;
    });
    for (var b = 0; b < blocks; b++) {
      var entry = byBlock[b];
      var div = $('<div class="armor-verdict"/>')
        .attr('data-output', b + 1)
        .css({ marginBottom: '6px' })
        .appendTo(box);
      if (!entry || !entry.verdict)
        div.addClass('armor-verdict-invalid').text('#' + (b + 1) + ': ' + d.node._('armor-integration.explain.invalid'));
      else showVerdict(d, div, b, entry);
    }
  }

  /** The explain box: a pasted alert or a bundled sample, checked against the config as it is typed. */
  function explainBox(d) {
    var samples = [];
    $('#armor-integration-alert').on('input change', function () {
      $('#armor-integration-sample').val('');
      d.scheduleCheck();
    });
    $('#armor-integration-sample').on('change', function () {
      var id = $(this).val();
      var sample = samples.filter(function (s) {
        return s.id === id;
      })[0];
      if (sample) $('#armor-integration-alert').val(JSON.stringify(sample.alert, null, 2));
      d.scheduleCheck();
    });
    ArmorEditor.sampleOptions($('#armor-integration-sample'), function (list) {
      samples = list;
    });
  }

  // ------------------------------------------------------------------ check

  function dialogOpen() {
    return $('#node-input-rules-container').closest('body').length > 0;
  }

  /** The runtime's messages on what the dialog holds: per row in the form, in the box below otherwise. */
  function showCheck(d, mode, res) {
    var box = $('#armor-integration-messages').empty();
    var errors = res.errors || [];
    var general = mode === 'form' ? markFields(d, errors) : (markFields(d, []), errors);
    general.forEach(function (e) {
      box.append($('<div class="armor-error"/>').css('color', ERROR_COLOUR).text(e.message));
    });
    // the form has no hook_url/api_key: they live in the delivery nodes' config nodes
    var warnings = (res.warnings || []).filter(function (w) {
      return mode !== 'form' || (w.tag !== 'hook_url' && w.tag !== 'api_key');
    });
    warnings.forEach(function (w) {
      box.append($('<div class="armor-warning"/>').css('color', WARNING_COLOUR).text(w.message));
    });
    if (mode === 'file' && !errors.length) $('#node-input-outputs').val(res.integrations.length);
    var ok = !errors.length;
    box.prepend(
      $('<div class="armor-summary"/>').text(ok ? '✓ ' + res.integrations.length + ' integration(s)' : '✗ ' + errors.length + ' error(s)'),
    );
  }

  /** Asks the runtime to validate (and explain), so the dialog shows the runtime's own messages. */
  function check(d) {
    if (!dialogOpen()) return;
    var mode = $('#node-input-mode').val();
    var found = explainAlert();
    var body = { mode: mode, rules: rowsFromForm(d), xml: $('#node-input-xml').val(), file: $('#node-input-file').val() };
    if (found && !found.error) body.alert = found.alert;
    postJson('armor-integration/check', body).done(function (res) {
      if (mode === 'xml') remember(body.xml, res);
      if (!dialogOpen()) return; // closed meanwhile
      showCheck(d, mode, res);
      showVerdicts(d, res, found);
    });
  }

  // ------------------------------------------------------------------ importBox

  /**
   * What an import does, row by row: the output each imported integration gets (the wires of
   * the same name's same occurrence follow it) and the delivery node it gets. `res` is the
   * import endpoint's answer for `xml`, with the position of each block's secrets in it.
   */
  function importPlan(d, res, xml) {
    var blocks = {};
    (res.blocks || []).forEach(function (b) {
      blocks[b.index] = b;
    });
    var current = {};
    var count = {};
    currentOutputs(d).forEach(function (c) {
      count[c.name] = (count[c.name] || 0) + 1;
      current[c.name + '#' + count[c.name]] = c;
    });
    count = {};
    return res.rows.map(function (r) {
      count[r.name] = (count[r.name] || 0) + 1;
      var match = current[r.name + '#' + count[r.name]];
      var spec = DELIVERY[r.name];
      var step = { row: r.row, name: r.name, block: r.index, port: match ? match.port : undefined, spec: spec };
      if (spec) {
        var block = blocks[r.index];
        var secret = block && block.name === r.name ? block[spec.tag] : undefined;
        step.hasSecret = spec.tag === 'hook_url' ? r.hasHookUrl : r.hasApiKey;
        step.secret = secret ? valueAt(xml, secret) : undefined;
        step.reference = !!(secret && secret.reference);
        step.kept = step.port !== undefined ? deliveryNodeAt(d.node, step.port, spec.type) : null;
      } else {
        step.dropped = r.hasHookUrl || r.hasApiKey;
      }
      return step;
    });
  }

  /** What importing one integration does with its delivery node, in words. */
  function deliveryText(d, step, create) {
    var node = d.node;
    if (!step.spec)
      return (
        node._('armor-integration.import.noDelivery', { name: step.name }) +
        (step.dropped ? ' ' + node._('armor-integration.import.secretDropped') : '')
      );
    if (!create) return node._('armor-integration.import.notCreating');
    if (step.kept) return node._('armor-integration.import.keptNode', { type: step.spec.type });
    if (step.secret !== undefined)
      return node._('armor-integration.import.newNodeSecret', { type: step.spec.type, config: step.spec.config, tag: step.spec.tag });
    if (step.hasSecret) return node._('armor-integration.import.secretUnread', { type: step.spec.type, tag: step.spec.tag });
    return node._('armor-integration.import.newNodeNoSecret', { type: step.spec.type, tag: step.spec.tag });
  }

  /** The import box's result: what was found, what each import does, the runtime's messages. */
  function renderImport(d, state) {
    var node = d.node;
    var res = state.res;
    var create = $('#armor-import-create').prop('checked');
    var box = $('#armor-import-result').empty();
    var failed = {};
    res.errors.forEach(function (e) {
      if (e.block >= 0) failed[e.block] = true;
    });
    var skipped = Object.keys(failed).length;
    $('<div id="armor-import-summary"/>')
      .css('font-weight', 'bold')
      .text(
        state.plan.length
          ? node._('armor-integration.import.found', { count: state.plan.length })
          : node._('armor-integration.import.none'),
      )
      .appendTo(box);
    if (skipped)
      $('<div class="armor-import-skipped"/>')
        .css('color', ERROR_COLOUR)
        .text(node._('armor-integration.import.skipped', { count: skipped }))
        .appendTo(box);
    var ol = $('<ol id="armor-import-integrations"/>').css({ margin: '6px 0 6px 24px' }).appendTo(box);
    state.plan.forEach(function (step) {
      var li = $('<li class="armor-import-item"/>').attr('data-name', step.name).appendTo(ol);
      var filters = Object.keys(step.row)
        .filter(function (k) {
          return k !== 'name';
        })
        .map(function (k) {
          return k + '=' + step.row[k];
        })
        .join(', ');
      $('<b/>').text(step.name).appendTo(li);
      li.append(document.createTextNode(' (block #' + (step.block + 1) + (filters ? '; ' + filters : '') + ') · '));
      li.append(
        document.createTextNode(
          step.port === undefined
            ? node._('armor-integration.import.newOutput')
            : node._('armor-integration.import.keptOutput', { port: step.port + 1 }),
        ),
      );
      $('<div class="armor-import-delivery"/>')
        .css({ fontSize: '0.9em', opacity: 0.85 })
        .text(deliveryText(d, step, create))
        .appendTo(li);
    });
    res.errors.forEach(function (e) {
      $('<div class="armor-import-error"/>')
        .attr('data-block', e.block)
        .attr('data-tag', e.tag || '')
        .css('color', ERROR_COLOUR)
        .text(e.message)
        .appendTo(box);
    });
    res.warnings.forEach(function (w) {
      $('<div class="armor-import-warning"/>')
        .attr('data-block', w.block)
        .attr('data-tag', w.tag || '')
        .css('color', WARNING_COLOUR)
        .text(w.message)
        .appendTo(box);
    });
    $('#armor-import-apply').toggleClass('disabled', !state.plan.length);
  }

  /** The form of the import tray: the text box, the "create nodes" option, the result. */
  function importForm(d, tray, changed) {
    var node = d.node;
    var form = $('<form class="dialog-form form-horizontal" autocomplete="off"/>').appendTo(tray.find('.red-ui-tray-body'));
    $('<div class="form-row"/>')
      .append(
        $('<label for="armor-import-xml"/>').css('width', '100%').text(node._('armor-integration.import.paste')),
        $('<textarea id="armor-import-xml" rows="14"/>')
          .css({ width: '100%', fontFamily: 'monospace' })
          .attr('placeholder', node._('armor-integration.placeholder.xml')),
      )
      .appendTo(form);
    $('<div class="form-row"/>')
      .append(
        $('<label for="armor-import-create"/>')
          .css('width', '100%')
          .append(
            $('<input type="checkbox" id="armor-import-create" checked/>').css({
              width: 'auto',
              margin: '0 6px 0 0',
              verticalAlign: 'baseline',
            }),
            $('<span/>').text(node._('armor-integration.import.create')),
          ),
      )
      .appendTo(form);
    $('<div class="form-row" id="armor-import-result"/>').appendTo(form);
    $('#armor-import-xml').on('input change', changed.text);
    $('#armor-import-create').on('change', changed.option);
    $('#armor-import-xml').trigger('focus');
  }

  /** The import box: paste, see what was found and what will happen, import. */
  function openImport(d) {
    var node = d.node;
    var timer = null;
    var last = null;
    function preview() {
      var xml = $('#armor-import-xml').val();
      postJson('armor-integration/import', { xml: xml }).done(function (res) {
        last = { res: res, plan: importPlan(d, res, xml) };
        renderImport(d, last);
      });
    }
    RED.tray.show({
      // the tray puts its title in as HTML: escaped, or "<integration>" would vanish as a tag
      title: $('<span/>').text(node._('armor-integration.import.title')).html(),
      width: 760,
      buttons: [
        {
          id: 'armor-import-cancel',
          text: RED._('common.label.cancel'),
          click: function () {
            RED.tray.close();
          },
        },
        {
          id: 'armor-import-apply',
          text: node._('armor-integration.import.apply'),
          class: 'primary disabled',
          click: function () {
            if (!last || !last.plan.length) return;
            var plan = last.plan;
            var create = $('#armor-import-create').prop('checked');
            // the dialog's form is back in the page once this tray is closed
            RED.tray.close(function () {
              applyImport(d, plan, create);
            });
          },
        },
      ],
      open: function (tray) {
        importForm(d, tray, {
          text: function () {
            clearTimeout(timer);
            timer = setTimeout(preview, 300);
          },
          option: function () {
            if (last) renderImport(d, last);
          },
        });
      },
      close: function () {
        clearTimeout(timer);
      },
    });
  }

  /** Fills the form with the imported rows; delivery nodes are made when the dialog is saved. */
  function applyImport(d, plan, create) {
    d.list.editableList('empty');
    plan.forEach(function (step) {
      var wanted =
        create && step.spec && !step.kept
          ? { name: step.name, block: step.block, secret: step.secret, reference: step.reference }
          : undefined;
      d.list.editableList('addItem', $.extend({}, step.row, { _port: step.port, _deliver: wanted }));
    });
    $('#node-input-mode').val('form').trigger('change');
    RED.notify(d.node._('armor-integration.import.filled', { count: plan.length }), { type: 'success', timeout: 4000 });
  }

  // ------------------------------------------------------------------ dialog

  /** oneditprepare: the parts of the dialog, sharing `d` (the node, its list of rows, the pending check). */
  function prepare(node) {
    armorContracts.open(node, 'node-input');
    var timer = null;
    var d = {
      node: node,
      openedOutputs: Number(node.outputs) || 0,
      list: null,
      scheduleCheck: function () {
        clearTimeout(timer);
        timer = setTimeout(function () {
          check(d);
        }, 300);
      },
    };
    $('#node-input-mode').on('change', function () {
      showMode(d, $(this).val());
    });
    rowList(d);
    $('#node-input-xml, #node-input-file').on('input change', d.scheduleCheck);
    $('#armor-integration-load').on('click', function (e) {
      e.preventDefault();
      check(d);
    });
    explainBox(d);
    $('#armor-integration-import').on('click', function (e) {
      e.preventDefault();
      openImport(d);
    });
    node._armorForm = function () {
      return formOnSave(d);
    };
    showMode(d, node.mode || 'form');
  }

  function showMode(d, mode) {
    $('.armor-mode').hide();
    $('.armor-mode-' + mode).show();
    d.scheduleCheck();
  }

  /**
   * On save in form mode: the rows, the outputs mapping (old output → new, so wires follow
   * their integration, as the switch node does) and the delivery nodes an import asked for.
   */
  function formOnSave(d) {
    var mapping = {};
    var wanted = [];
    for (var p = 0; p < d.openedOutputs; p++) mapping[p] = -1;
    var items = d.list.editableList('items');
    items.each(function (k) {
      var data = $(this).data('data');
      if (data._port !== undefined) mapping[data._port] = k;
      else mapping['new' + k] = k;
      if (data._deliver) wanted.push($.extend({ port: k }, data._deliver));
    });
    return { rules: rowsFromForm(d), mapping: mapping, created: createDeliveryNodes(d.node, wanted, items.length) };
  }

  /** oneditsave in form mode: rows, outputs mapping, and the delivery nodes an import asked for (wired once saved). */
  function saveForm(node) {
    var form = node._armorForm();
    node.rules = form.rules;
    // the editor reads this mapping, sets `outputs` and moves the existing wires
    $('#node-input-outputs').val(JSON.stringify(form.mapping));
    var created = form.created;
    if (!created) return undefined;
    var wire = function (saved) {
      if (saved !== node) return;
      RED.events.off('editor:save', wire);
      created.wire();
      RED.notify(node._('armor-integration.import.created', created.counts), { type: 'success', timeout: 6000 });
    };
    RED.events.on('editor:save', wire);
    return [created];
  }

  /** oneditsave in XML mode: literal secrets moved out (where the runtime located them), one output per block. */
  function saveXml(node) {
    var xml = String($('#node-input-xml').val() || '');
    var res = answerNow(xml);
    if (!res || documentFailed(res)) {
      // not XML the runtime can read: nothing can be located in it, and the outputs (and wires) stay
      node.outputs = Number(node.outputs) || 0;
    } else {
      var result = moveSecrets(xml, res.blocks || []);
      if (result.moved.length) {
        node.xml = result.xml;
        $('#node-input-xml').val(result.xml);
        RED.nodes.dirty(true);
        // as text: RED.notify renders a string as HTML, and the names come from the pasted XML
        RED.notify($('<p/>').text(node._('armor-integration.notify.moved', { nodes: result.moved.join(', ') })), {
          type: 'warning',
          timeout: 8000,
        });
      }
      node.outputs = (res.blocks || []).length;
    }
    $('#node-input-outputs').val(node.outputs);
  }

  /** oneditsave: returns the history of the nodes an import created, if any. */
  function save(node) {
    var mode = $('#node-input-mode').val();
    var history;
    if (mode === 'form') history = saveForm(node);
    else if (mode === 'xml') saveXml(node);
    else {
      node.outputs = Number($('#node-input-outputs').val()) || 0;
      $('#node-input-outputs').val(node.outputs);
    }
    delete node._armorForm;
    return history ? { changed: true, history: history } : undefined;
  }

  function cancel(node) {
    delete node._armorForm;
  }

  ArmorEditor.integration = {
    names: names,
    hasBlocks: hasBlocks,
    prepare: prepare,
    save: save,
    cancel: cancel,
  };
})();
