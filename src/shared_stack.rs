//! A persistent stack: a copy shares every element with the original, and pushing onto one
//! copy leaves the others as they were.
//!
//! Stage state that a later stage inherits (`ENV` values, paths written) is a stack of this
//! kind, so a chain of n stages, each starting from its parent's state, holds n elements in all
//! instead of the n²/2 that copying a `Vec` per stage would (a 20 000-stage chain needed
//! gigabytes).

use std::rc::Rc;

/// A stack whose copies share their elements; [`SharedStack::iter`] goes from the newest.
#[derive(Debug)]
pub struct SharedStack<T> {
    top: Option<Rc<Node<T>>>,
    len: usize,
}

#[derive(Debug)]
struct Node<T> {
    value: T,
    below: Option<Rc<Node<T>>>,
}

impl<T> SharedStack<T> {
    pub fn new() -> Self {
        SharedStack { top: None, len: 0 }
    }

    pub fn push(&mut self, value: T) {
        let below = self.top.take();
        self.top = Some(Rc::new(Node { value, below }));
        self.len += 1;
    }

    pub fn len(&self) -> usize {
        self.len
    }

    pub fn is_empty(&self) -> bool {
        self.top.is_none()
    }

    /// The elements, newest first.
    pub fn iter(&self) -> impl Iterator<Item = &T> + '_ {
        std::iter::successors(self.top.as_deref(), |node| node.below.as_deref())
            .map(|node| &node.value)
    }

    /// The elements, oldest first (in the order they were pushed).
    pub fn to_vec(&self) -> Vec<&T> {
        let mut values: Vec<&T> = self.iter().collect();
        values.reverse();
        values
    }

    /// Whether both are the same stack in memory (a copy of one another, neither pushed since).
    fn same(&self, other: &Self) -> bool {
        match (&self.top, &other.top) {
            (Some(a), Some(b)) => Rc::ptr_eq(a, b),
            (None, None) => true,
            _ => false,
        }
    }
}

impl<T> Default for SharedStack<T> {
    fn default() -> Self {
        SharedStack::new()
    }
}

impl<T> Clone for SharedStack<T> {
    fn clone(&self) -> Self {
        SharedStack {
            top: self.top.clone(),
            len: self.len,
        }
    }
}

impl<T: PartialEq> PartialEq for SharedStack<T> {
    fn eq(&self, other: &Self) -> bool {
        self.same(other) || (self.len == other.len && self.iter().eq(other.iter()))
    }
}

impl<T: Eq> Eq for SharedStack<T> {}

impl<T> FromIterator<T> for SharedStack<T> {
    fn from_iter<I: IntoIterator<Item = T>>(values: I) -> Self {
        let mut stack = SharedStack::new();
        for value in values {
            stack.push(value);
        }
        stack
    }
}

/// Dropping node by node: the default drop of a long chain recurses once per node and
/// overflows the stack.
impl<T> Drop for SharedStack<T> {
    fn drop(&mut self) {
        let mut next = self.top.take();
        while let Some(node) = next {
            match Rc::try_unwrap(node) {
                Ok(mut node) => next = node.below.take(),
                // Another stack still holds the rest.
                Err(_) => break,
            }
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn copies_share_and_pushes_stay_apart() {
        let mut parent: SharedStack<u32> = [1, 2].into_iter().collect();
        let mut child = parent.clone();
        child.push(3);
        parent.push(4);
        assert_eq!(child.to_vec(), [&1, &2, &3]);
        assert_eq!(parent.iter().collect::<Vec<_>>(), [&4, &2, &1]);
        assert_eq!(child.len(), 3);
        assert_ne!(child, parent);
        assert_eq!(child, [1, 2, 3].into_iter().collect());
    }

    #[test]
    fn a_long_stack_drops_without_overflowing() {
        let stack: SharedStack<u32> = (0..1_000_000).collect();
        let copy = stack.clone();
        drop(stack);
        assert_eq!(copy.len(), 1_000_000);
        drop(copy);
    }
}
