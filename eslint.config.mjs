// npm run lint (run by npm test): ESLint's and typescript-eslint's recommended rules, type-checked,
// on the TypeScript of src/, nodes/, test/ and bench/ and the scripts.
import js from '@eslint/js';
import globals from 'globals';
import tseslint from 'typescript-eslint';

export default tseslint.config(
  { ignores: ['dist/', 'node_modules/', '.demo/', 'docs/'] },
  js.configs.recommended,
  ...tseslint.configs.recommendedTypeChecked,
  {
    languageOptions: {
      globals: globals.node,
      parserOptions: { projectService: true, tsconfigRootDir: import.meta.dirname },
    },
  },
  {
    // tests and benchmarks read Node-RED messages and JSON answers as `any`: the unsafe-any rules
    // pay in the library and the nodes, not there
    files: ['test/**/*.ts', 'bench/**/*.ts'],
    rules: {
      // the test helper and Node-RED's own nodes are CommonJS modules loaded by path
      '@typescript-eslint/no-require-imports': 'off',
      '@typescript-eslint/no-explicit-any': 'off',
      '@typescript-eslint/no-unsafe-argument': 'off',
      '@typescript-eslint/no-unsafe-assignment': 'off',
      '@typescript-eslint/no-unsafe-call': 'off',
      '@typescript-eslint/no-unsafe-member-access': 'off',
      '@typescript-eslint/no-unsafe-return': 'off',
      // async kept without await for a uniform interface: transports, runtime providers, bench sections' run(), mocha tests
      '@typescript-eslint/require-await': 'off',
      // arrays of numbers and kinds in assertion messages print as a comma list, which is what a failing test should say
      '@typescript-eslint/restrict-template-expressions': ['error', { allowArray: true }],
    },
  },
  {
    // a status text comes from the message catalogue (RED._): a literal string or template
    // literal as the text of setStatus / fail (nodes/lib/node-kit.ts) or node.status is refused
    files: ['nodes/**/*.ts'],
    rules: {
      // `const node = this` is how a Node-RED node's constructor names itself for its callbacks
      '@typescript-eslint/no-this-alias': ['error', { allowedNames: ['node'] }],
      'no-restricted-syntax': [
        'error',
        ...[
          "CallExpression[callee.name='setStatus'][arguments.3.type=/^(Literal|TemplateLiteral)$/]",
          "CallExpression[callee.name='fail'][arguments.5.type=/^(Literal|TemplateLiteral)$/]",
          "CallExpression[callee.property.name='status'] > ObjectExpression.arguments > Property[key.name='text'][value.type=/^(Literal|TemplateLiteral)$/]",
        ].map((selector) => ({ selector, message: 'A status text comes from the message catalogue: RED._(key), not a literal.' })),
      ],
    },
  },
  {
    // editor code served from resources/: it runs in the browser, beside the editor's RED and jQuery
    files: ['resources/**/*.js'],
    languageOptions: {
      globals: {
        ...globals.browser,
        RED: 'readonly',
        $: 'readonly',
        jQuery: 'readonly',
        armorContracts: 'readonly',
        ArmorEditor: 'writable',
      },
    },
  },
  {
    files: ['**/*.js', '**/*.mjs'],
    ...tseslint.configs.disableTypeChecked,
    rules: { ...tseslint.configs.disableTypeChecked.rules, '@typescript-eslint/no-require-imports': 'off' },
  },
);
