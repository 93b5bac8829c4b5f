import { describe, expect, it } from 'vitest';
import { Directory } from './directory';

describe('Directory', () => {
  it('keeps cookie order across removes, compaction included', () => {
    const d = new Directory();
    for (let i = 0; i < 200; i++) d.add(`f${i}`, 100 + i, 3 + i);
    for (let i = 0; i < 200; i += 3) d.remove(`f${i}`);
    const listed = [...d.after(0)].map((e) => e.cookie);
    expect(listed).toEqual([...listed].sort((a, b) => a - b));
    expect(listed.length).toBe(d.count);
    // Resume after a removed entry's cookie: continues with the next live one.
    expect([...d.after(3 + 3)][0].name).toBe('f4');
  });

  it('refuses a cookie that does not grow', () => {
    const d = new Directory([{ name: 'a', ino: 5, cookie: 9 }]);
    expect(() => d.add('b', 6, 9)).toThrow();
    d.add('b', 6, 10);
    expect(d.get('b')?.cookie).toBe(10);
  });

  it('loads rows in any order and lists them by cookie', () => {
    const d = new Directory([
      { name: 'z', ino: 1, cookie: 7 },
      { name: 'y', ino: 2, cookie: 4 },
    ]);
    expect([...d.after(0)].map((e) => e.name)).toEqual(['y', 'z']);
    expect([...d.after(4)].map((e) => e.name)).toEqual(['z']);
  });
});
