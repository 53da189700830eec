import { InvalidArgumentError } from 'commander';

/** Argument parsers for the load-test tool and the bench commands (commander): a bad value is a usage error, not NaN. */
export function positive(value: string): number {
  const number = Number(value);
  if (!Number.isInteger(number) || number < 1) throw new InvalidArgumentError('a whole number ≥ 1');
  return number;
}

export function whole(value: string): number {
  const number = Number(value);
  if (!Number.isInteger(number) || number < 0) throw new InvalidArgumentError('a whole number ≥ 0');
  return number;
}

export function positiveList(value: string): number[] {
  return value.split(',').map((part) => positive(part.trim()));
}
