"""Which index PyTorch's CPU ``kthvalue`` reports when the k-th value is tied.

PyTorch finds the k-th smallest value by quickselect (median-of-three pivot, Hoare partition,
NaN greater than every number), moving the indices along with the values; among equal values
the index that lands at position k is the one it returns. Rows whose k-th value is unique have
one answer, so only tied rows run this loop."""

import math


def _after(x, y):
    """x sorts after y: greater, or NaN against a number."""
    return (math.isnan(x) and not math.isnan(y)) or x > y


def quickselect_index(values, k):
    """The index PyTorch's kthvalue gives for the (k+1)-th smallest of ``values`` (a list)."""
    arr, idx = list(values), list(range(len(values)))

    def swap(a, b):
        arr[a], arr[b] = arr[b], arr[a]
        idx[a], idx[b] = idx[b], idx[a]

    low, high = 0, len(arr) - 1
    while high > low:
        if high == low + 1:
            if _after(arr[low], arr[high]):
                swap(low, high)
            break
        swap(low + (high - low) // 2, low + 1)  # median of three becomes the pivot, at low
        if _after(arr[low + 1], arr[high]):
            swap(low + 1, high)
        if _after(arr[low], arr[high]):
            swap(low, high)
        if _after(arr[low + 1], arr[low]):
            swap(low + 1, low)
        i, j, pivot = low + 1, high, arr[low]
        while True:
            i += 1
            while _after(pivot, arr[i]):
                i += 1
            j -= 1
            while _after(arr[j], pivot):
                j -= 1
            if j < i:
                break
            swap(i, j)
        swap(low, j)
        if j <= k:
            low = i
        if j >= k:
            high = j - 1
    return idx[k]
