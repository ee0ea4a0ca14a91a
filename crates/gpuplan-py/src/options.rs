//! Keyword arguments to request fields: one typed accessor per kind of value, `None` meaning
//! "not given" (the library default applies), and an error for a keyword nobody read.

use std::collections::BTreeMap;
use std::fmt::Display;
use std::str::FromStr;

use pyo3::exceptions::PyTypeError;
use pyo3::prelude::*;
use pyo3::types::{PyDict, PyString};

use crate::errors::invalid;

/// The `**options` of a native function.
pub struct Options<'a, 'py> {
    dict: Option<&'a Bound<'py, PyDict>>,
    read: Vec<&'static str>,
}

impl<'a, 'py> Options<'a, 'py> {
    pub fn new(dict: Option<&'a Bound<'py, PyDict>>) -> Self {
        Options {
            dict,
            read: Vec::new(),
        }
    }

    /// The value of `name`, `None` when absent or `None`.
    fn get(&mut self, name: &'static str) -> PyResult<Option<Bound<'py, PyAny>>> {
        self.read.push(name);
        match self.dict {
            Some(dict) => Ok(dict.get_item(name)?.filter(|v| !v.is_none())),
            None => Ok(None),
        }
    }

    pub fn string(&mut self, name: &'static str) -> PyResult<Option<String>> {
        self.get(name)?.map(|v| v.extract()).transpose()
    }

    pub fn flag(&mut self, name: &'static str) -> PyResult<Option<bool>> {
        self.get(name)?.map(|v| v.extract()).transpose()
    }

    /// A number (int or float).
    pub fn number(&mut self, name: &'static str) -> PyResult<Option<f64>> {
        self.get(name)?.map(|v| v.extract()).transpose()
    }

    /// A number or a string the type parses (e.g. a request rate: `16`, `float("inf")` or
    /// `"inf"`).
    pub fn number_or_parsed<T>(&mut self, name: &'static str) -> PyResult<Option<T>>
    where
        T: FromStr,
        T::Err: Display,
    {
        match self.get(name)? {
            None => Ok(None),
            Some(v) => match v.extract::<f64>() {
                Ok(x) if x.is_infinite() => parse(name, "inf").map(Some),
                Ok(x) => parse(name, &x.to_string()).map(Some),
                Err(_) => {
                    let text: String = v.extract()?;
                    parse(name, &text).map(Some)
                }
            },
        }
    }

    /// A non-negative integer (the library checks which values make sense, as for the CLI).
    pub fn count(&mut self, name: &'static str) -> PyResult<Option<u64>> {
        match self.get(name)? {
            None => Ok(None),
            Some(v) => {
                let n: i128 = v.extract()?;
                u64::try_from(n)
                    .map(Some)
                    .map_err(|_| invalid(format!("{name} must be a non-negative integer, got {n}")))
            }
        }
    }

    /// A non-negative integer that fits 32 bits (GPU counts and parallel sizes).
    pub fn count_u32(&mut self, name: &'static str) -> PyResult<Option<u32>> {
        match self.count(name)? {
            None => Ok(None),
            Some(n) => u32::try_from(n)
                .map(Some)
                .map_err(|_| invalid(format!("{name} is too large: {n}"))),
        }
    }

    /// A name parsed as the CLI parses the flag of the same name.
    pub fn parsed<T>(&mut self, name: &'static str) -> PyResult<Option<T>>
    where
        T: FromStr,
        T::Err: Display,
    {
        match self.string(name)? {
            None => Ok(None),
            Some(text) => parse(name, &text).map(Some),
        }
    }

    /// One string or a sequence of strings.
    pub fn strings(&mut self, name: &'static str) -> PyResult<Option<Vec<String>>> {
        match self.get(name)? {
            None => Ok(None),
            Some(v) if v.is_instance_of::<PyString>() => Ok(Some(vec![v.extract()?])),
            Some(v) => v.extract().map(Some),
        }
    }

    /// One name or a sequence of names, each parsed as the CLI parses it.
    pub fn parsed_list<T>(&mut self, name: &'static str) -> PyResult<Option<Vec<T>>>
    where
        T: FromStr,
        T::Err: Display,
    {
        match self.strings(name)? {
            None => Ok(None),
            Some(texts) => texts
                .iter()
                .map(|t| parse(name, t))
                .collect::<PyResult<_>>()
                .map(Some),
        }
    }

    /// A mapping of GPU name to US dollars per GPU-hour.
    pub fn prices(&mut self, name: &'static str) -> PyResult<Option<BTreeMap<String, f64>>> {
        self.get(name)?.map(|v| v.extract()).transpose()
    }

    /// Fails on a keyword no accessor read (a misspelt option must not be ignored).
    pub fn finish(self) -> PyResult<()> {
        let Some(dict) = self.dict else {
            return Ok(());
        };
        for key in dict.keys() {
            let key: String = key.extract()?;
            if !self.read.contains(&key.as_str()) {
                return Err(PyTypeError::new_err(format!(
                    "unexpected keyword argument '{key}'"
                )));
            }
        }
        Ok(())
    }
}

fn parse<T>(name: &str, text: &str) -> PyResult<T>
where
    T: FromStr,
    T::Err: Display,
{
    text.parse()
        .map_err(|e| invalid(format!("invalid {name} '{text}': {e}")))
}
