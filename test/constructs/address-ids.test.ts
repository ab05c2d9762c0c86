import { addressIds } from '../../lib/constructs/address-ids';

describe('addressIds', () => {
  test('each address is its own id when constructs keeps them apart', () => {
    const addresses = [
      'ops@example.com',
      'a-b@example.com',
      'a/b@example.com',
      'A@example.com',
      'a@example.com',
    ];
    expect(addressIds(addresses)).toEqual(addresses);
  });

  test('of two addresses constructs would merge ("/" is "--"), the one with the "/" is escaped, in any order', () => {
    expect(addressIds(['a/b@gmail.com', 'a--b@gmail.com'])).toEqual(['a-2Fb-40gmail.com', 'a--b@gmail.com']);
    expect(addressIds(['a--b@gmail.com', 'a/b@gmail.com'])).toEqual(['a--b@gmail.com', 'a-2Fb-40gmail.com']);
    // Two with a "/" that merge with each other: both escaped, and apart.
    expect(addressIds(['a/b--c@x.example', 'a--b/c@x.example'])).toEqual([
      'a-2Fb-2D-2Dc-40x.example',
      'a-2D-2Db-2Fc-40x.example',
    ]);
  });

  test('an escaped id has no "@", so no address (which has one) can take it', () => {
    const addresses = [
      'a--b@x.example',
      'a/b@x.example',
      'a-2Fb@x.example',
      'a-/b@x.example',
      'a/-b@x.example',
    ];
    const ids = addressIds(addresses);
    const sanitized = ids.map((id) => id.replace(/\//g, '--'));
    expect(new Set(sanitized).size).toBe(addresses.length);
  });

  test('the same address twice keeps one id: constructs refuses it, as it always did', () => {
    expect(addressIds(['a@example.com', 'a@example.com'])).toEqual(['a@example.com', 'a@example.com']);
  });
});
