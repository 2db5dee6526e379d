"""Definitions and their lines in every language with a grammar, config files by key.

Each snippet is a small but realistic file: a type with a method or two, a free function.
"""

from __future__ import annotations

from collections.abc import Callable

import pytest
from tokenizers import Tokenizer

from indexer import chunk_file, language_for
from indexer.languages import CODE_LANGUAGES, load_query
from tests.test_chunk_code import assert_faithful, spans, symbol_extents

KOTLIN = """\
package shop

import java.math.BigDecimal

/** A shopping cart. */
class Cart(private val owner: String) {
    private val items = mutableListOf<Item>()

    fun add(item: Item): Cart {
        items.add(item)
        return this
    }

    fun total(): BigDecimal = items.fold(BigDecimal.ZERO) { acc, i -> acc + i.price }
}

interface Priced {
    val price: BigDecimal
}

object Registry {
    fun lookup(id: String): Item? = null
}

fun formatPrice(value: BigDecimal): String {
    return "$" + value.setScale(2)
}
"""

SWIFT = """\
import Foundation

/// A shopping cart.
class Cart {
    private var items: [Item] = []

    func add(_ item: Item) -> Cart {
        items.append(item)
        return self
    }

    var total: Decimal {
        items.reduce(0) { $0 + $1.price }
    }
}

struct Item {
    let name: String
    let price: Decimal
}

protocol Priced {
    var price: Decimal { get }
}

extension Item: Priced {
    func describe() -> String {
        return "\\(name): \\(price)"
    }
}

func formatPrice(_ value: Decimal) -> String {
    return "$\\(value)"
}
"""

SCALA = """\
package shop

import scala.collection.mutable

/** A shopping cart. */
class Cart(owner: String) {
  private val items = mutable.ListBuffer[Item]()

  def add(item: Item): Cart = {
    items += item
    this
  }

  def total: BigDecimal = items.map(_.price).sum
}

case class Item(name: String, price: BigDecimal)

trait Priced {
  def price: BigDecimal
}

object Cart {
  def empty(owner: String): Cart = new Cart(owner)
}

def formatPrice(value: BigDecimal): String =
  f"$$$value%.2f"
"""

ELIXIR = """\
defmodule Shop.Cart do
  @moduledoc "A shopping cart."

  alias Shop.Item

  defstruct items: []

  @doc "Adds an item."
  def add(%__MODULE__{items: items} = cart, %Item{} = item) do
    %{cart | items: [item | items]}
  end

  def total(cart) do
    Enum.reduce(cart.items, 0, fn item, acc -> acc + item.price end)
  end

  defp format(value), do: "$#{value}"
end

defprotocol Shop.Priced do
  def price(item)
end
"""

LUA = """\
-- A shopping cart.
local Cart = {}
Cart.__index = Cart

function Cart.new(owner)
  return setmetatable({ owner = owner, items = {} }, Cart)
end

function Cart:add(item)
  table.insert(self.items, item)
  return self
end

local function format_price(value)
  return string.format("$%.2f", value)
end

local total = function(cart)
  local sum = 0
  for _, item in ipairs(cart.items) do
    sum = sum + item.price
  end
  return sum
end

return Cart
"""

CSHARP = """\
using System.Collections.Generic;

namespace Shop
{
    /// <summary>A shopping cart.</summary>
    public class Cart
    {
        private readonly List<Item> items = new();

        public Cart(string owner)
        {
            Owner = owner;
        }

        public string Owner { get; }

        public Cart Add(Item item)
        {
            items.Add(item);
            return this;
        }
    }

    public interface IPriced
    {
        decimal Price { get; }
    }

    public record Item(string Name, decimal Price);

    public enum Status { Open, Paid }
}
"""

PHP = """\
<?php

namespace Shop;

use Shop\\Item;

/** A shopping cart. */
class Cart
{
    private array $items = [];

    public function add(Item $item): self
    {
        $this->items[] = $item;
        return $this;
    }

    public static function empty(): self
    {
        return new self();
    }
}

interface Priced
{
    public function price(): float;
}

trait HasOwner
{
    public function owner(): string
    {
        return $this->owner;
    }
}

function format_price(float $value): string
{
    return sprintf('$%.2f', $value);
}
"""

BASH = """\
#!/usr/bin/env bash
set -euo pipefail

REMOTE=${REMOTE:-deploy@example.org}

# Copy the build to the server.
upload() {
  local target=$1
  rsync -az build/ "$REMOTE:$target"
}

function restart {
  ssh "$REMOTE" sudo systemctl restart app
}

upload /srv/app
restart
"""

HASKELL = """\
module Shop.Cart
  ( Cart (..)
  , addItem
  ) where

import Data.List (foldl')

-- | A shopping cart.
data Cart = Cart
  { owner :: String
  , items :: [Item]
  }

class Priced a where
  price :: a -> Double

-- | Adds an item.
addItem :: Item -> Cart -> Cart
addItem item cart = cart { items = item : items cart }

total :: Cart -> Double
total cart = foldl' (\\acc i -> acc + price i) 0 (items cart)

instance Show Cart where
  show c = owner c
"""

ZIG = """\
const std = @import("std");

/// A shopping cart.
pub const Cart = struct {
    items: std.ArrayList(Item),

    pub fn init(allocator: std.mem.Allocator) Cart {
        return .{ .items = std.ArrayList(Item).init(allocator) };
    }

    pub fn add(self: *Cart, item: Item) !void {
        try self.items.append(item);
    }
};

pub const Item = struct {
    name: []const u8,
    price: f64,
};

fn formatPrice(value: f64) f64 {
    return value * 100.0;
}

test "add an item" {
    var cart = Cart.init(std.testing.allocator);
    try cart.add(.{ .name = "pen", .price = 1.5 });
}
"""

OCAML = """\
(* A shopping cart. *)
type item = { name : string; price : float }

type t = { owner : string; mutable items : item list }

let create owner = { owner; items = [] }

let add cart item =
  cart.items <- item :: cart.items;
  cart

module Pricing = struct
  let total cart =
    List.fold_left (fun acc i -> acc +. i.price) 0.0 cart.items

  let format value = Printf.sprintf "$%.2f" value
end

module type PRICED = sig
  val price : item -> float
end
"""

DART = """\
import 'dart:math';

/// A shopping cart.
class Cart {
  final String owner;
  final List<Item> items = [];

  Cart(this.owner);

  Cart add(Item item) {
    items.add(item);
    return this;
  }

  double get total => items.fold(0, (sum, i) => sum + i.price);
}

mixin Priced {
  double get price;
}

enum Status { open, paid }

String formatPrice(double value) {
  return '\\$${value.toStringAsFixed(2)}';
}
"""

JULIA = """\
module Shop

using Printf

\"\"\"A shopping cart.\"\"\"
mutable struct Cart
    owner::String
    items::Vector{Float64}
end

abstract type Priced end

function add!(cart::Cart, price::Float64)
    push!(cart.items, price)
    return cart
end

total(cart::Cart) = sum(cart.items)

macro logged(expr)
    return :(println("running"); $(esc(expr)))
end

end
"""

YAML = """\
# Build and test on every push.
name: ci

on:
  push:
    branches: [main]
  pull_request:

jobs:
  test:
    runs-on: ubuntu-latest
    steps:
      - uses: actions/checkout@v4
      - run: pytest -q
  lint:
    runs-on: ubuntu-latest
    steps:
      - run: ruff check .
"""

TOML = """\
[project]
name = "shop"
version = "1.0.0"
dependencies = ["click>=8"]

[project.scripts]
shop = "shop.cli:main"

[tool.ruff]
line-length = 100

[[tool.mypy.overrides]]
module = "tests.*"
strict = false
"""

JSON = """\
{
  "name": "shop",
  "version": "1.0.0",
  "scripts": {
    "build": "tsc -p .",
    "test": "vitest run"
  },
  "dependencies": {
    "react": "^18.2.0"
  }
}
"""

SNIPPETS = {
    "shop/Cart.kt": KOTLIN,
    "Sources/Shop/Cart.swift": SWIFT,
    "src/main/scala/Cart.scala": SCALA,
    "lib/shop/cart.ex": ELIXIR,
    "shop/cart.lua": LUA,
    "src/Shop/Cart.cs": CSHARP,
    "src/Cart.php": PHP,
    "scripts/deploy.sh": BASH,
    "src/Shop/Cart.hs": HASKELL,
    "src/cart.zig": ZIG,
    "lib/cart.ml": OCAML,
    "lib/cart.dart": DART,
    "src/Shop.jl": JULIA,
    ".github/workflows/ci.yml": YAML,
    "pyproject.toml": TOML,
    "package.json": JSON,
}

# At the full budget each definition is one chunk, with the comments, doc attributes
# (Elixir @doc), signatures (Haskell) and docstrings (Julia) directly above it.
WHOLE_DEFINITIONS = {
    "shop/Cart.kt": [
        (None, 1, 3),
        ("Cart", 5, 15),
        ("Priced", 17, 19),
        ("Registry", 21, 23),
        ("formatPrice", 25, 27),
    ],
    "Sources/Shop/Cart.swift": [
        (None, 1, 1),
        ("Cart", 3, 15),
        ("Item", 17, 20),
        ("Priced", 22, 24),
        ("Item", 26, 30),  # extension Item: Priced
        ("formatPrice", 32, 34),
    ],
    "src/main/scala/Cart.scala": [
        (None, 1, 3),
        ("Cart", 5, 15),
        ("Item", 17, 17),
        ("Priced", 19, 21),
        ("Cart", 23, 25),  # the companion object
        ("formatPrice", 27, 28),
    ],
    "lib/shop/cart.ex": [("Shop.Cart", 1, 18), ("Shop.Priced", 20, 22)],
    "shop/cart.lua": [
        (None, 1, 3),
        ("Cart.new", 5, 7),
        ("Cart.add", 9, 12),
        ("format_price", 14, 16),
        ("total", 18, 24),
        (None, 26, 26),
    ],
    "src/Shop/Cart.cs": [(None, 1, 1), ("Shop", 3, 32)],
    "src/Cart.php": [
        (None, 1, 5),
        ("Cart", 7, 22),
        ("Priced", 24, 27),
        ("HasOwner", 29, 35),
        ("format_price", 37, 40),
    ],
    "scripts/deploy.sh": [(None, 1, 4), ("upload", 6, 10), ("restart", 12, 14), (None, 16, 17)],
    "src/Shop/Cart.hs": [
        (None, 1, 8),
        ("Cart", 9, 12),
        ("Priced", 14, 15),
        ("addItem", 17, 19),
        ("total", 21, 22),
        ("Cart", 24, 25),  # instance Show Cart
    ],
    "src/cart.zig": [
        (None, 1, 1),
        ("Cart", 3, 14),
        ("Item", 16, 19),
        ("formatPrice", 21, 23),
        ("add an item", 25, 28),
    ],
    "lib/cart.ml": [
        ("item", 1, 2),
        ("t", 4, 4),
        ("create", 6, 6),
        ("add", 8, 10),
        ("Pricing", 12, 17),
        ("PRICED", 19, 21),
    ],
    "lib/cart.dart": [
        (None, 1, 1),
        ("Cart", 3, 16),
        ("Priced", 18, 20),
        ("Status", 22, 22),
        ("formatPrice", 24, 26),  # signature and its separate body node
    ],
    "src/Shop.jl": [("Shop", 1, 24)],
    # Config: sections by key; one-line `key: value` pairs stay together without a symbol.
    ".github/workflows/ci.yml": [(None, 1, 2), ("on", 4, 7), ("jobs", 9, 18)],
    "pyproject.toml": [
        ("project", 1, 5),
        ("project.scripts", 6, 8),
        ("tool.ruff", 9, 11),
        ("tool.mypy.overrides", 12, 14),
    ],
    "package.json": [(None, 1, 3), ("scripts", 4, 7), ("dependencies", 8, 11)],
}

# With a budget too small for the containers, members get `Container.member` chunks.
MEMBERS = {
    "shop/Cart.kt": {"Cart": (5, 7), "Cart.add": (9, 12), "Cart.total": (14, 15)},
    "Sources/Shop/Cart.swift": {"Cart": (3, 15), "Cart.add": (7, 10)},
    "src/main/scala/Cart.scala": {"Cart": (5, 25), "Cart.add": (9, 12), "Cart.total": (14, 15)},
    "lib/shop/cart.ex": {
        "Shop.Cart": (1, 6),
        "Shop.Cart.add": (8, 11),
        "Shop.Cart.total": (13, 15),
        "Shop.Cart.format": (17, 18),
        "Shop.Priced": (20, 22),
    },
    "src/Shop/Cart.cs": {
        "Shop": (3, 4),
        "Shop.Cart": (5, 15),
        "Shop.Cart.Cart": (10, 13),
        "Shop.Cart.Add": (17, 22),
        "Shop.IPriced": (24, 27),
        "Shop.Item": (29, 29),
        "Shop.Status": (31, 32),
    },
    "src/Cart.php": {"Cart": (7, 10), "Cart.add": (12, 16), "Cart.empty": (18, 22)},
    "src/cart.zig": {"Cart": (3, 5), "Cart.init": (7, 9), "Cart.add": (11, 14)},
    "lib/cart.ml": {"Pricing.total": (12, 14), "Pricing.format": (16, 17)},
    "lib/cart.dart": {"Cart": (3, 8), "Cart.add": (10, 13), "Cart.total": (15, 16)},
    "src/Shop.jl": {
        "Shop": (1, 3),
        "Shop.Cart": (5, 9),
        "Shop.Priced": (11, 11),
        "Shop.add!": (13, 16),
        "Shop.total": (18, 18),
        "Shop.logged": (20, 24),
    },
}


@pytest.fixture(scope="module")
def real_tokens(wordpiece: Tokenizer) -> Callable[[str], int]:
    return lambda text: len(wordpiece.encode(text).ids)


def test_at_least_twenty_languages_have_definitions() -> None:
    assert len(CODE_LANGUAGES) >= 20
    for language in CODE_LANGUAGES:
        load_query(language)  # every grammar loads and its query compiles


@pytest.mark.parametrize("path", SNIPPETS)
def test_each_definition_is_one_chunk_with_exact_lines(path: str) -> None:
    chunks = chunk_file(path, SNIPPETS[path])

    assert spans(chunks) == WHOLE_DEFINITIONS[path]
    assert {(c.kind, c.language) for c in chunks} == {("code", language_for(path))}
    assert_faithful(chunks, SNIPPETS[path])


@pytest.mark.parametrize("path", MEMBERS)
def test_members_of_split_containers_get_qualified_names(path: str) -> None:
    chunks = chunk_file(path, SNIPPETS[path], max_tokens=100)

    extents = symbol_extents(chunks)
    assert {symbol: extents.get(symbol) for symbol in MEMBERS[path]} == MEMBERS[path]
    assert_faithful(chunks, SNIPPETS[path])


@pytest.mark.parametrize("max_tokens", [512, 64])
@pytest.mark.parametrize("path", SNIPPETS)
def test_every_chunk_fits_the_real_tokenizer(
    path: str, max_tokens: int, real_tokens: Callable[[str], int]
) -> None:
    chunks = chunk_file(path, SNIPPETS[path], max_tokens=max_tokens)

    assert [c.start_line for c in chunks if real_tokens(c.embedding_text) > max_tokens] == []
    assert_faithful(chunks, SNIPPETS[path])


@pytest.mark.parametrize(
    ("path", "text", "symbol"),
    [
        ("a.kt", "class Box {\n    constructor(size: Int) {\n    }\n}\n", "Box.constructor"),
        (
            "a.swift",
            "struct Box {\n    var size: Int\n\n    init(size: Int) {\n        self.size = size\n"
            "    }\n}\n",
            "Box.init",
        ),
        ("a.ex", "defmodule Box do\n  def open(x) when x > 0, do: x\nend\n", "Box.open"),
        ("a.lua", "local M = {}\nfunction M:open()\nend\n", "M.open"),
        ("a.php", "<?php\nenum Suit: string {\n  case Hearts = 'H';\n}\n", "Suit"),
        ("a.hs", 'main :: IO ()\nmain = putStrLn "hi"\n', "main"),
        ("a.rb", "def save!\n  true\nend\n", "save!"),
    ],
)
def test_names_of_less_common_definitions(path: str, text: str, symbol: str) -> None:
    assert symbol in {c.symbol for c in chunk_file(path, text, max_tokens=40)}
