/**
 * What every dialog of this package does as it opens (its oneditprepare calls
 * armorContracts.open(node, prefix)), with what the runtime tells the editor through the node
 * settings it registers (nodes/lib/migrate.ts, RED.settings.<camelCasedType><Name>):
 *   - an empty number field shows the runtime's default as its placeholder (<type>Defaults);
 *   - a node saved by an older version (or before versions existed) is brought to the current
 *     one (<type>Version) by the runtime's own migrations (POST armor-integrations/migrate/<type>):
 *     the form takes the migrated values, and the new version is saved with the node.
 */
(function () {
  /** armor-slack-webhook → armorSlackWebhook (as Node-RED names node settings). */
  function camel(type) {
    var words = String(type)
      .replace(/[^a-zA-Z0-9]/g, ' ')
      .trim()
      .replace(/ +/g, ' ');
    var joined = words.replace(/ ./g, function (s) {
      return s.charAt(1).toUpperCase();
    });
    return joined.charAt(0).toLowerCase() + joined.slice(1);
  }

  /** RED.settings.<type><name>: Version, Defaults, EnvReference. */
  function setting(type, name) {
    return RED.settings[camel(type) + name];
  }

  function placeholders(node, prefix) {
    var defaults = setting(node.type, 'Defaults') || {};
    Object.keys(defaults).forEach(function (key) {
      var input = $('#' + prefix + '-' + key);
      if (input.length && input.is('input') && !input.attr('placeholder')) input.attr('placeholder', String(defaults[key]));
    });
  }

  function migrate(node, prefix) {
    var current = setting(node.type, 'Version');
    var saved = node.version === undefined || node.version === null || node.version === '' ? 0 : Number(node.version);
    if (current === undefined || saved >= current) return;
    var def = { id: node.id, type: node.type };
    Object.keys(node._def.defaults).forEach(function (key) {
      def[key] = node[key];
    });
    $.ajax({
      url: 'armor-integrations/migrate/' + node.type,
      type: 'POST',
      contentType: 'application/json',
      data: JSON.stringify(def),
    }).done(function (res) {
      Object.keys(node._def.defaults).forEach(function (key) {
        if (key === 'version' || !(key in res.def) || JSON.stringify(res.def[key]) === JSON.stringify(def[key])) return;
        var input = $('#' + prefix + '-' + key);
        if (input.length && typeof res.def[key] !== 'object') input.val(res.def[key]).trigger('change');
      });
      // saved with the node like any field of the form
      var version = $('#' + prefix + '-version');
      if (!version.length)
        version = $('<input type="hidden">')
          .attr('id', prefix + '-version')
          .insertAfter($('#' + prefix + '-name'));
      version.val(res.def.version);
    });
  }

  window.armorContracts = {
    setting: setting,
    /** The `${NAME}` reference pattern of the runtime (src/config/env.ts ENV_REFERENCE). */
    envReference: function (type) {
      return new RegExp(setting(type, 'EnvReference'));
    },
    open: function (node, prefix) {
      placeholders(node, prefix);
      migrate(node, prefix);
    },
  };
})();
