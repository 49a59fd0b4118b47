// Reading an entry's arguments: daemon options, "-o" overrides and "{ }" words.
package mastercf

import "strings"

// argItem is one unit of an entry's arguments as postconf prints them.
type argItem struct {
	text     string
	override bool // a "-o value" pair, which "postconf -Mf" puts on a line of its own
}

// readArgs reads the words after the command the way postconf does. Options
// come first and end at "--" or at the first word that does not start with
// "-"; a bundle such as "-vo" is split before its "o"; "-oVALUE" and "-o VALUE"
// are the same override; a braced override "{ name = value }" is rewritten as
// "name=value" and braced again if the result holds blanks. The word that
// ends the options is printed without its braces; later words are braced
// only when they hold blanks. Problems postconf only warns about are passed
// to warn.
func readArgs(words []string, warn func(string)) (items []argItem, options []Option) {
	inOptions := true
	for i := 0; i < len(words); i++ {
		word := words[i]
		if !inOptions {
			text, err := unbrace(word)
			if err != nil {
				warn(err.Error())
			}
			if strings.ContainsAny(text, blanks) {
				text = "{" + text + "}"
			}
			items = append(items, argItem{text: text})
			continue
		}
		if !strings.HasPrefix(word, "-") || word == "--" {
			// The word that ends the options loses its braces for good.
			inOptions = false
			text, err := unbrace(word)
			if err != nil {
				warn(err.Error())
			}
			items = append(items, argItem{text: text})
			continue
		}
		if k := strings.IndexByte(word[1:], 'o'); k > 0 {
			items = append(items, argItem{text: word[:k+1]})
			word = "-" + word[k+1:]
		}
		if !strings.HasPrefix(word, "-o") {
			items = append(items, argItem{text: word})
			continue
		}
		var value string
		switch {
		case len(word) > 2:
			value = word[2:]
		case i+1 < len(words):
			i++
			value = words[i]
		default:
			items = append(items, argItem{text: "-o", override: true})
			continue
		}
		value, option, ok := readOverride(value, warn)
		if ok {
			options = append(options, option)
		}
		if strings.ContainsAny(value, blanks) {
			value = "{" + value + "}"
		}
		items = append(items, argItem{text: "-o " + value, override: true})
	}
	return items, options
}

// readOverride reads one "-o" value. A braced value is normalised to
// "name=value" and its problems are reported; a plain value without "=" is
// kept as written and silently yields no override, as in postconf.
func readOverride(value string, warn func(string)) (string, Option, bool) {
	if !strings.HasPrefix(value, "{") {
		name, val, err := splitNameValue(value)
		return value, Option{Name: name, Value: val}, err == nil
	}
	inner, err := unbrace(value)
	if err != nil {
		warn(err.Error())
	}
	name, val, err := splitNameValue(inner)
	if err != nil {
		warn(err.Error())
		return inner, Option{}, false
	}
	return name + "=" + val, Option{Name: name, Value: val}, true
}
