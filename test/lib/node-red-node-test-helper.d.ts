// node-red-node-test-helper ships no types: the tests use it as the loosely typed helper it is.
declare module 'node-red-node-test-helper' {
  const helper: any;
  export default helper;
}
