/**
 * Editor code shared by the dialogs of @armor/node-red-integrations. Node-RED (1.3 and later)
 * serves this package's resources/ folder at resources/@armor/node-red-integrations/, and each
 * node's .html loads this file before its own script:
 *
 *   <script src="resources/@armor/node-red-integrations/armor-editor.js"></script>
 *
 * It runs in the editor's page (globals RED and $), in the same plain ES5 as the .html files.
 * What it holds:
 *   - samples:  the bundled sample alerts (GET armor-integrations/samples), fetched once per page
 *   - delivery: the armor-slack and armor-pagerduty nodes' definitions: labels, the preview and
 *               "Send test" of their dialogs, the node button that sends a test alert
 *   - pacing:   the pacing fields (rate, burst, digestAbove, deadline, maxQueue, maxQueueMB) of
 *               the armor-slack-webhook and armor-pagerduty-service config nodes
 * Anything a service or a config says reaches the page as text (.text(), never .html()).
 */
(function () {
  'use strict';
  // every node's .html loads this file (the first load is the one), beside armor-integration-editor.js
  // for the integration node, in any order: whichever comes first makes the namespace
  var ArmorEditor = (window.ArmorEditor = window.ArmorEditor || {});
  if (ArmorEditor.delivery) return;

  var ERROR_COLOUR = 'var(--red-ui-text-color-error, #c00)';
  var OK_COLOUR = '#3a7d2c';

  // ------------------------------------------------------------------ sample alerts

  var samples = null;

  /** The bundled sample alerts, fetched once per page. */
  function loadSamples(done) {
    if (samples) return done(samples);
    $.getJSON('armor-integrations/samples').done(function (list) {
      samples = list;
      done(list);
    });
  }

  /** Fills `select` with one option per sample alert; calls `done` once they are there. */
  function sampleOptions(select, done) {
    loadSamples(function (list) {
      list.forEach(function (s) {
        $('<option/>').val(s.id).text(s.label).appendTo(select);
      });
      if (done) done(list);
    });
  }

  // ------------------------------------------------------------------ delivery dialogs

  /**
   * A notification's content as text: RED.notify renders a string as HTML, and the answer
   * comes from the service (any URL, for a custom endpoint), so it must never be markup.
   */
  function asText(text) {
    return $('<p/>').text(text);
  }

  /** The reason a failed admin request gives, or its HTTP status. */
  function failure(xhr) {
    return (xhr.responseJSON && xhr.responseJSON.error) || 'HTTP ' + xhr.status;
  }

  /**
   * Sends one sample alert through the deployed node `node` of `type` (POST <type>/:id/test)
   * and shows the service's answer, in a notification and in `shown` when given; the runtime
   * redacts the webhook or routing key from it.
   */
  function sendTest(type, node, sample, shown) {
    var show = function (text, ok, timeout) {
      var options = { type: ok ? 'success' : 'error', id: type + '-test' };
      if (timeout) options.timeout = timeout; // (an update with timeout undefined would close at once)
      RED.notify(asText(text), options);
      if (shown) shown.text(text).css('color', ok ? OK_COLOUR : ERROR_COLOUR);
    };
    $.ajax({
      url: type + '/' + node.id + '/test',
      type: 'POST',
      contentType: 'application/json',
      data: JSON.stringify(sample ? { sample: sample } : {}),
    })
      .done(function (res) {
        var text = res.ok
          ? node._(type + '.test.ok', { status: res.status, answer: res.answer || '' })
          : node._(type + '.test.failed', { error: res.error || res.kind });
        show(text, res.ok, res.ok ? 3000 : 8000);
      })
      .fail(function (xhr) {
        show(xhr.status === 404 ? node._(type + '.test.notDeployed') : node._(type + '.test.failed', { error: failure(xhr) }), false);
      });
  }

  /**
   * What a delivery node's definition takes from here: its canvas button (a test alert, like
   * the inject node's) and the preview and Send test of its dialog.
   *
   * `type` names the admin endpoints (POST <type>/preview, POST <type>/:id/test), the dialog's
   * elements (#<type>-sample, -preview, -test, -test-result) and the messages (<type>.test.*).
   * `options.shows`: the property of the preview's answer to show (`message`, `event`);
   * `options.inputs`: properties of the node whose dialog inputs (#node-input-<name>) change
   * the preview, sent with it.
   */
  function delivery(type, options) {
    var inputs = options.inputs || [];
    var el = function (part) {
      return $('#' + type + '-' + part);
    };

    function preview() {
      if (!el('sample').val()) return; // samples not loaded yet
      var body = { sample: el('sample').val() };
      inputs.forEach(function (name) {
        body[name] = $('#node-input-' + name).val();
      });
      $.ajax({ url: type + '/preview', type: 'POST', contentType: 'application/json', data: JSON.stringify(body) })
        .done(function (res) {
          el('preview').text(JSON.stringify(res[options.shows], null, 2));
        })
        .fail(function (xhr) {
          el('preview').text(failure(xhr));
        });
    }

    return {
      button: {
        enabled: function () {
          return !this.changed;
        },
        onclick: function () {
          if (this.changed) {
            return RED.notify(RED._('notification.warning', { message: RED._('notification.warnings.undeployedChanges') }), 'warning');
          }
          sendTest(type, this);
        },
      },
      /** The dialog's part: call from oneditprepare with the node. */
      prepare: function (node) {
        sampleOptions(el('sample'), preview);
        el('sample')
          .add(
            inputs
              .map(function (name) {
                return '#node-input-' + name;
              })
              .join(', '),
          )
          .on('change', preview);
        // the test uses the deployed node (its config node as deployed), like the inject button
        var deployed = !node.changed;
        el('test')
          .prop('disabled', !deployed)
          .toggleClass('disabled', !deployed)
          .on('click', function (e) {
            e.preventDefault();
            if ($(this).prop('disabled')) return;
            sendTest(type, node, el('sample').val(), el('test-result').text('…').css('color', ''));
          });
        if (!deployed) el('test-result').text(node._(type + '.test.deployFirst'));
      },
    };
  }

  /** The preview and Send test part of a delivery node's dialog (`@` is the node's type). */
  var PREVIEW_ROWS = [
    '<hr>',
    '  <div class="form-row">',
    '    <label for="@-sample"><i class="fa fa-eye"></i> <span data-i18n="@.label.preview"></span></label>',
    '    <select id="@-sample" style="width: 70%"></select>',
    '  </div>',
    '  <div class="form-row">',
    '    <pre id="@-preview" style="max-height: 320px; overflow: auto; font-size: 0.85em; white-space: pre-wrap"></pre>',
    '    <div class="form-tips" data-i18n="@.tip.preview"></div>',
    '  </div>',
    '  <div class="form-row">',
    '    <button type="button" id="@-test" class="red-ui-button"><i class="fa fa-paper-plane"></i> <span data-i18n="@.label.test"></span></button>',
    '    <span id="@-test-result" style="margin-left: 8px"></span>',
    '  </div>',
  ].join('\n');

  /**
   * Writes `html` (`@` standing for `type`) into the edit template of `type`, in place of its
   * `<div class="<placeholder>"></div>`. Called when the node is registered, before any dialog
   * opens, so that the editor finds, translates, fills and validates these inputs as any other
   * of the template (the template is in the page once the node's .html script runs).
   */
  function fillTemplate(type, placeholder, html) {
    var template = $('script[data-template-name="' + type + '"]');
    template.text(template.text().replace('<div class="' + placeholder + '"></div>', html.replace(/@/g, type)));
  }

  /**
   * The definition of a delivery node (armor-slack, armor-pagerduty) for RED.nodes.registerType:
   * one input, the outputs "sent" and "failed", labelled by its config node, the test button
   * and the dialog's preview. `o.color`, `o.paletteLabel`; `o.config`: the property naming the
   * config node; `o.defaults`: its properties beside name and version; `o.shows`, `o.inputs`:
   * as for `delivery`.
   */
  function deliveryNode(type, o) {
    var parts = delivery(type, o);
    fillTemplate(type, 'armor-preview', PREVIEW_ROWS);
    return {
      category: 'Armor',
      color: o.color,
      defaults: $.extend({ name: { value: '' }, version: { value: armorContracts.setting(type, 'Version') } }, o.defaults),
      inputs: 1,
      outputs: 2,
      icon: type + '.svg',
      align: 'right',
      paletteLabel: o.paletteLabel,
      inputLabels: function () {
        return this._(type + '.label.input');
      },
      outputLabels: function (i) {
        return this._(type + (i === 0 ? '.label.sent' : '.label.failed'));
      },
      label: function () {
        var config = RED.nodes.node(this[o.config]);
        return this.name || (config && config.name ? o.paletteLabel + ': ' + config.name : type);
      },
      labelStyle: function () {
        return this.name ? 'node_label_italic' : '';
      },
      button: parts.button,
      oneditprepare: function () {
        armorContracts.open(this, 'node-input');
        parts.prepare(this);
      },
    };
  }

  // ------------------------------------------------------------------ pacing of config nodes

  /**
   * The pacing fields, in the order the dialogs show them: the form row of each (its icon, its
   * input, the text after it; labels are keys of the config node's catalogue, <type>.label.*).
   */
  var PACING = {
    rate: {
      icon: 'fa-tachometer',
      label: 'rate',
      input: 'step="0.1" min="0.01" style="width: 70px"',
      after:
        ' <span data-i18n="@.label.perSecond"></span>,\n    <span data-i18n="@.label.burst"></span> <input type="number" id="node-config-input-burst" min="1" style="width: 60px">',
    },
    digestAbove: {
      icon: 'fa-compress',
      label: 'digest',
      input: 'min="1" style="width: 70px"',
      after: ' <span data-i18n="@.label.waiting"></span>',
    },
    deadline: { icon: 'fa-hourglass-end', label: 'deadline', input: 'min="1" style="width: 90px"', after: ' s' },
    maxQueue: {
      icon: 'fa-database',
      label: 'maxQueue',
      input: 'min="1" style="width: 110px"',
      after: ' <span data-i18n="@.label.alerts"></span>',
    },
    maxQueueMB: {
      icon: 'fa-hdd-o',
      label: 'maxQueueMB',
      input: 'min="1" style="width: 90px"',
      after: ' <span data-i18n="@.label.megabytes"></span>',
    },
  };

  /**
   * The `defaults` entries of the pacing properties `names` (`burst` comes with `rate`): empty,
   * which the runtime reads as its own default (RED.settings.<type>Defaults, shown as the
   * fields' placeholders by armorContracts.open).
   */
  function pacingDefaults(names) {
    var defaults = {};
    names.forEach(function (name) {
      defaults[name] = { value: '', validate: RED.validators.number(true) };
    });
    return defaults;
  }

  /**
   * The `shared` property of the delivery config nodes: an armor-redis node (several
   * instances, one delivery) or none (this instance's own outbox, the default).
   */
  function sharedDefaults() {
    return { shared: { value: '', type: 'armor-redis', required: false } };
  }

  /**
   * Writes the form rows of the pacing `fields` into the edit template of `type`, where it has
   * `<div class="armor-pacing"></div>` (see fillTemplate). Call it before registering the type.
   */
  function pacingFields(type, fields) {
    fillTemplate(
      type,
      'armor-pacing',
      fields
        .map(function (name) {
          var f = PACING[name];
          var id = 'node-config-input-' + name;
          return (
            '<div class="form-row">\n' +
            '    <label for="' +
            id +
            '"><i class="fa ' +
            f.icon +
            '"></i> <span data-i18n="@.label.' +
            f.label +
            '"></span></label>\n' +
            '    <input type="number" id="' +
            id +
            '" ' +
            f.input +
            '>' +
            f.after +
            '\n' +
            '  </div>'
          );
        })
        .join('\n  '),
    );
  }

  $.extend(ArmorEditor, {
    sampleOptions: sampleOptions,
    delivery: delivery,
    deliveryNode: deliveryNode,
    pacingDefaults: pacingDefaults,
    sharedDefaults: sharedDefaults,
    pacingFields: pacingFields,
  });
})();
