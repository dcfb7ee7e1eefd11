/** deadbolt/eslint-plugin: the audit's rules for ESLint flat config (being built; see issue 6). */
const plugin = { meta: { name: 'deadbolt' }, rules: {}, configs: {} };
export default plugin;
